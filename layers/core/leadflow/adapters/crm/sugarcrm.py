"""SugarCRM REST v11+ client: Leads by email, target lists (ProspectLists) for membership.

- Auth: ``POST /rest/v11/oauth2/token`` with grant ``password`` and Leadflow's own ``platform``
  (so its login does not end the users' web sessions); the access token is kept until
  ``expires_in``, then the refresh token is used; when Sugar answers ``invalid_grant`` to the
  refresh (or 401 to a call), one fresh password login and one retry.
- Person: the Lead whose email address matches (``email_addresses.email_address``), else a new
  Lead (last_name: the contact's or ``[not provided]``).
- Membership: a campaign's ``external.id`` is a target list (the ProspectList a Sugar campaign
  sends to); the lead is linked with ``POST /ProspectLists/{id}/link/leads/{lead_id}`` after a
  filtered read of that link tells whether it already is. Sugar's target-list link has no
  member status: statuses are not carried (docs/CONNECTORS.md, capability table).
- Errors come as ``{"error", "error_message"}``; 429 honours ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from leadflow import clock
from leadflow.adapters.crm.base import (
    ApiUsage,
    AuthFailed,
    ChangePage,
    ConnectorError,
    Credentials,
    MalformedReply,
    MemberSync,
    NotSupported,
    RemoteRejected,
    SyncResult,
    Throttled,
    Token,
    TokenCache,
    Unavailable,
    UnknownCampaign,
)
from leadflow.adapters.crm.common import one_by_one, refusal_body, short, token_key
from leadflow.adapters.crm.http import HttpClient, HttpResponse, encode, json_body, retry_after
from leadflow.domain.crm_connectors import SUGAR_ID, ConnectorSettings, SugarSettings

NOT_PROVIDED = "[not provided]"


def sugar_id(value: str, what: str) -> str:
    if not SUGAR_ID.fullmatch(value):
        raise RemoteRejected(f"{what} {value[:40]!r} is not a Sugar id", code="INVALID_ID")
    return value


class SugarConnector:
    kind: ClassVar[str] = "sugarcrm"

    def __init__(
        self, settings: ConnectorSettings, credentials: Credentials, http: HttpClient, tokens: TokenCache
    ) -> None:
        if not isinstance(settings, SugarSettings):
            raise TypeError("SugarConnector needs SugarSettings")
        self.settings = settings
        self._credentials = credentials
        self._http = http
        self._tokens = tokens
        self._key = token_key(settings.id, credentials)
        self._api = f"{settings.instance_url}/rest/v{settings.api_version}"

    def usage(self) -> ApiUsage | None:
        return None  # Sugar reports no API usage in its replies

    def changes_since(self, watermark: str | None, *, limit: int) -> ChangePage:
        raise NotSupported("the SugarCRM connector is outbound only", code="NOT_SUPPORTED")

    def sync_members(self, members: Sequence[MemberSync]) -> list[SyncResult | ConnectorError]:
        """One by one: Sugar has no bulk call for leads and links."""
        return one_by_one(self.sync_member, members)

    def sync_member(self, member: MemberSync) -> SyncResult:
        list_id = sugar_id(member.external_campaign_id, "target list")
        lead_id = self._find_lead(member.contact.email)
        created_person = lead_id is None
        if lead_id is None:
            lead_id = self._create_lead(member)
            already = False
        else:
            already = self._is_member(list_id, lead_id)
        if not already:
            path = f"/ProspectLists/{quote(list_id, safe='')}/link/leads/{quote(lead_id, safe='')}"
            self._call("POST", path, {}, list_id=list_id)
        return SyncResult(member.change_id, lead_id, None, created_person, not already)

    # -- steps ---------------------------------------------------------------------------------

    def _find_lead(self, email: str) -> str | None:
        body = {
            "filter": [{"email_addresses.email_address": {"$equals": email}}],
            "fields": "id",
            "max_num": 1,
            "order_by": "date_entered:ASC",
        }
        records = self._records(self._call("POST", "/Leads/filter", body))
        return str(records[0]["id"]) if records and records[0].get("id") else None

    def _create_lead(self, member: MemberSync) -> str:
        contact = member.contact
        body: dict[str, Any] = dict(contact.fields)
        body["last_name"] = contact.last_name or NOT_PROVIDED
        body["email"] = [{"email_address": contact.email, "primary_address": True}]
        if contact.first_name:
            body["first_name"] = contact.first_name
        if contact.company:
            body["account_name"] = contact.company
        if contact.phone:
            body["phone_work"] = contact.phone
        reply = self._call("POST", "/Leads", body, email=contact.email)
        if not isinstance(reply, dict) or not isinstance(reply.get("id"), str):
            raise MalformedReply("the create reply has no id", code="BAD_CREATE_REPLY")
        return reply["id"]

    def _is_member(self, list_id: str, lead_id: str) -> bool:
        query = urlencode({"filter[0][id][$equals]": lead_id, "fields": "id", "max_num": "1"})
        reply = self._call(
            "GET", f"/ProspectLists/{quote(list_id, safe='')}/link/leads?{query}", None, list_id=list_id
        )
        return bool(self._records(reply))

    # -- HTTP ----------------------------------------------------------------------------------

    @staticmethod
    def _records(reply: Any) -> list[dict[str, Any]]:
        if not isinstance(reply, dict) or not isinstance(reply.get("records"), list):
            raise MalformedReply("the list reply has no records", code="BAD_LIST_REPLY")
        return [row for row in reply["records"] if isinstance(row, dict)]

    def _call(
        self, method: str, path: str, body: Any, *, list_id: str | None = None, email: str | None = None
    ) -> Any:
        payload = encode(body) if body is not None else None
        for _attempt in (1, 2):
            token = self._token()
            headers = {"OAuth-Token": token.access_token, "Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            response = self._http.request(method, self._api + path, headers=headers, body=payload)
            if response.status == 200:
                return json_body(response)
            if response.status != 401:
                raise self._error(response, list_id=list_id, email=email)
            # the access token is dead; keep its refresh token so the retry refreshes first
            self._tokens.put(
                self._key, Token(token.access_token, clock.now() - timedelta(seconds=1), token.refresh_token)
            )
        raise AuthFailed("Sugar refused a fresh login's token", code="invalid_grant", status=401)

    def _token(self) -> Token:
        """The cached token; else a refresh with its refresh token; else a password login."""
        cached = self._tokens.get(self._key)
        if cached is not None:
            return cached
        stale = self._tokens.peek(self._key)
        if stale is not None and stale.refresh_token:
            refreshed = self._grant(
                {"grant_type": "refresh_token", "refresh_token": stale.refresh_token}, refresh=True
            )
            if refreshed is not None:
                return refreshed
        values = self._credentials.values
        token = self._grant(
            {"grant_type": "password", "username": values["username"], "password": values["password"]}
        )
        if token is None:  # a password grant either works or raises; this keeps the type honest
            raise AuthFailed("Sugar refused the login", code="invalid_grant")
        return token

    def _grant(self, grant: dict[str, str], *, refresh: bool = False) -> Token | None:
        body = {
            **grant,
            "client_id": self.settings.client_id,
            "client_secret": self._credentials.values.get("client_secret", ""),
            "platform": self.settings.platform,
        }
        response = self._http.request(
            "POST",
            f"{self._api}/oauth2/token",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            body=encode(body),
        )
        if response.status >= 500:
            raise Unavailable(f"the Sugar token endpoint answered {response.status}", status=response.status)
        if response.status == 429:
            raise Throttled(
                "the Sugar token endpoint is throttled",
                code="too_many_requests",
                retry_after=retry_after(response),
            )
        reply = json_body(response) if response.status == 200 else refusal_body(response)
        if response.status != 200:
            self._tokens.drop(self._key)
            code = str(reply.get("error") if isinstance(reply, dict) else "invalid_grant")
            if refresh and code == "invalid_grant":
                return None  # the refresh token is spent or expired: log in again
            raise AuthFailed(f"Sugar refused the login ({short(code)})", code=code, status=response.status)
        if not isinstance(reply, dict) or not isinstance(reply.get("access_token"), str):
            raise MalformedReply("the token reply has no access_token", code="BAD_TOKEN_REPLY")
        lifetime = reply.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
        refresh_token = reply.get("refresh_token")
        token = Token(
            access_token=reply["access_token"],
            expires_at=clock.now() + timedelta(seconds=seconds),
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        )
        self._tokens.put(self._key, token)
        return token

    def _error(self, response: HttpResponse, *, list_id: str | None, email: str | None) -> ConnectorError:
        reply: Any = None
        if response.status < 500 or response.body.strip().startswith(b"{"):
            reply = json_body(response, allow_empty=True)
        if response.status < 500 and reply is not None and not (isinstance(reply, dict) and "error" in reply):
            raise MalformedReply(
                f"Sugar answered {response.status} without its error shape", status=response.status
            )
        error = reply if isinstance(reply, dict) else {}
        code = str(error.get("error") or f"HTTP_{response.status}")
        message = short(error.get("error_message") or f"Sugar answered {response.status}", redact=email)
        if response.status == 429:
            return Throttled(message, code=code, status=429, retry_after=retry_after(response))
        if response.status >= 500:
            return Unavailable(message, code=code, status=response.status, retry_after=retry_after(response))
        if list_id and response.status == 404:
            return UnknownCampaign(list_id, code=code, status=404)
        if response.status == 403:
            return AuthFailed(message, code=code, status=403)
        return RemoteRejected(message, code=code, status=response.status)
