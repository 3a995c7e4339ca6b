"""Dynamics 365 Sales (Dataverse Web API) client: leads, marketing-list members, campaign responses.

- Auth: OAuth 2.0 client credentials at Entra ID, ``{login_url}/{tenant}/oauth2/v2.0/token`` with
  scope ``{org url}/.default``; the token is cached until shortly before ``expires_in`` runs out,
  and a 401 gets one new token and one retry.
- Person: the lead by ``emailaddress1`` (the alternate key when ``email_key`` names one, else a
  ``$filter`` query), else a new lead (lastname and companyname: the contact's or ``[not provided]``).
- Membership: a campaign's ``external.id`` is a marketing list; ``AddMemberList`` adds the lead,
  after a look at ``listlead_association`` tells whether it already is a member (a 404 there: the
  list does not exist). Dataverse list members have no status; a *responded* status becomes one
  ``campaignresponse`` regarding the list's campaign, once per change (its subject carries the
  change id, looked up before it is created).
- Errors come as ``{"error": {"code", "message"}}``; 429 honours ``Retry-After``.
- Usage: ``x-ms-ratelimit-burst-remaining-xrm-requests`` against the 6,000-requests window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

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
from leadflow.adapters.crm.common import client_credentials_token, one_by_one, short, token_key
from leadflow.adapters.crm.http import HttpClient, HttpResponse, encode, json_body, retry_after
from leadflow.domain.crm_connectors import GUID_ID, ConnectorSettings, DynamicsSettings

NOT_PROVIDED = "[not provided]"
BURST_LIMIT = 6000
"""Dataverse's service protection limit: 6,000 requests per user in a 300-second window."""
NOT_FOUND_CODES = frozenset({"0x80040217"})
CUSTOMER_PARTY = 11
"""activityparty participationtypemask: the customer of an activity."""


def odata_string(value: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def guid(value: str, what: str) -> str:
    if not GUID_ID.fullmatch(value):
        raise RemoteRejected(f"{what} {value[:40]!r} is not a Dataverse id", code="INVALID_ID")
    return value


class DynamicsConnector:
    kind: ClassVar[str] = "dynamics"

    def __init__(
        self, settings: ConnectorSettings, credentials: Credentials, http: HttpClient, tokens: TokenCache
    ) -> None:
        if not isinstance(settings, DynamicsSettings):
            raise TypeError("DynamicsConnector needs DynamicsSettings")
        self.settings = settings
        self._credentials = credentials
        self._http = http
        self._tokens = tokens
        self._key = token_key(settings.id, credentials)
        self._usage: ApiUsage | None = None
        self._api = f"{settings.instance_url}/api/data/v{settings.api_version}"

    def usage(self) -> ApiUsage | None:
        return self._usage

    def changes_since(self, watermark: str | None, *, limit: int) -> ChangePage:
        raise NotSupported("the Dynamics connector is outbound only", code="NOT_SUPPORTED")

    def sync_members(self, members: Sequence[MemberSync]) -> list[SyncResult | ConnectorError]:
        """One by one: Dataverse counts each operation of a $batch against its limits anyway."""
        return one_by_one(self.sync_member, members)

    def sync_member(self, member: MemberSync) -> SyncResult:
        list_id = guid(member.external_campaign_id, "marketing list")
        lead_id = self._find_lead(member.contact.email)
        created_person = lead_id is None
        if lead_id is None:
            lead_id = self._create_lead(member)
            already = False
        else:
            already = self._is_member(list_id, lead_id)
        member_id = None
        if not already:
            reply = self._call(
                "POST",
                f"/lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList",
                {"EntityId": lead_id},
                expect=(200,),
                list_id=list_id,
            )
            member_id = reply.get("Id") if isinstance(reply, dict) else None
        if member.responded:
            self._respond(list_id, lead_id, member)
        return SyncResult(member.change_id, lead_id, member_id, created_person, not already)

    # -- steps ---------------------------------------------------------------------------------

    def _find_lead(self, email: str) -> str | None:
        if self.settings.email_key:
            path = f"/leads({self.settings.email_key}={quote(odata_string(email), safe='')})?$select=leadid"
            response = self._send("GET", path, None)
            if response.status == 404:
                return None
            reply = self._check(response, expect=(200,))
            return str(reply["leadid"]) if isinstance(reply, dict) and reply.get("leadid") else None
        query = urlencode(
            {
                "$select": "leadid",
                "$filter": f"emailaddress1 eq {odata_string(email)}",
                "$orderby": "createdon asc",
                "$top": "1",
            }
        )
        rows = self._rows(self._call("GET", f"/leads?{query}", None, expect=(200,)))
        return str(rows[0]["leadid"]) if rows and rows[0].get("leadid") else None

    def _create_lead(self, member: MemberSync) -> str:
        contact = member.contact
        body: dict[str, Any] = dict(contact.fields)
        body.update(
            {
                "emailaddress1": contact.email,
                "lastname": contact.last_name or NOT_PROVIDED,
                "companyname": contact.company or NOT_PROVIDED,
                "subject": body.get("subject") or "Leadflow",
            }
        )
        if contact.first_name:
            body["firstname"] = contact.first_name
        if contact.phone:
            body["telephone1"] = contact.phone
        response = self._send("POST", "/leads", encode(body))
        self._check(response, expect=(204, 201), email=contact.email)
        return self._entity_id(response, "leads")

    def _is_member(self, list_id: str, lead_id: str) -> bool:
        query = urlencode({"$select": "leadid", "$filter": f"leadid eq {guid(lead_id, 'lead')}"})
        reply = self._call(
            "GET", f"/lists({list_id})/listlead_association?{query}", None, expect=(200,), list_id=list_id
        )
        return bool(self._rows(reply))

    def _respond(self, list_id: str, lead_id: str, member: MemberSync) -> None:
        query = urlencode({"$select": "campaignid", "$top": "1"})
        campaigns = self._rows(
            self._call(
                "GET",
                f"/lists({list_id})/campaignlist_association?{query}",
                None,
                expect=(200,),
                list_id=list_id,
            )
        )
        if not campaigns or not campaigns[0].get("campaignid"):
            raise RemoteRejected(
                f"marketing list {list_id} is not linked to a campaign, so a response cannot be recorded",
                code="NO_CAMPAIGN",
            )
        campaign_id = guid(str(campaigns[0]["campaignid"]), "campaign")
        subject = f"{member.status[:120]} (Leadflow {member.change_id[:60]})"
        query = urlencode(
            {
                "$select": "activityid",
                "$filter": f"_regardingobjectid_value eq {campaign_id} and subject eq {odata_string(subject)}",
                "$top": "1",
            }
        )
        if self._rows(self._call("GET", f"/campaignresponses?{query}", None, expect=(200,))):
            return
        body = {
            "subject": subject,
            "regardingobjectid_campaign@odata.bind": f"/campaigns({campaign_id})",
            "campaignresponse_activity_parties": [
                {"partyid_lead@odata.bind": f"/leads({lead_id})", "participationtypemask": CUSTOMER_PARTY}
            ],
        }
        self._check(self._send("POST", "/campaignresponses", encode(body)), expect=(204, 201))

    # -- HTTP ----------------------------------------------------------------------------------

    @staticmethod
    def _rows(reply: Any) -> list[dict[str, Any]]:
        if not isinstance(reply, dict) or not isinstance(reply.get("value"), list):
            raise MalformedReply("the query reply has no value list", code="BAD_QUERY_REPLY")
        return [row for row in reply["value"] if isinstance(row, dict)]

    @staticmethod
    def _entity_id(response: HttpResponse, entity_set: str) -> str:
        location = response.header("odata-entityid") or ""
        marker = f"/{entity_set}("
        if marker in location and location.endswith(")"):
            candidate = location.rsplit(marker, 1)[1][:-1]
            if GUID_ID.fullmatch(candidate):
                return candidate
        raise MalformedReply("the create reply has no OData-EntityId", code="BAD_CREATE_REPLY")

    def _call(
        self, method: str, path: str, body: Any, *, expect: tuple[int, ...], list_id: str | None = None
    ) -> Any:
        response = self._send(method, path, encode(body) if body is not None else None)
        return self._check(response, expect=expect, list_id=list_id)

    def _check(
        self,
        response: HttpResponse,
        *,
        expect: tuple[int, ...],
        list_id: str | None = None,
        email: str | None = None,
    ) -> Any:
        if response.status in expect:
            return json_body(response, allow_empty=response.status in (201, 204))
        raise self._error(response, list_id=list_id, email=email)

    def _send(self, method: str, path: str, payload: bytes | None) -> HttpResponse:
        for attempt in (1, 2):
            token = self._token(fresh=attempt == 2)
            headers = {
                "Authorization": f"Bearer {token.access_token}",
                "Accept": "application/json",
                "OData-MaxVersion": "4.0",
                "OData-Version": "4.0",
            }
            if payload is not None:
                headers["Content-Type"] = "application/json; charset=utf-8"
            response = self._http.request(method, self._api + path, headers=headers, body=payload)
            self._observe(response)
            if response.status != 401:
                return response
            self._tokens.drop(self._key)
        raise AuthFailed("Dataverse refused a new token", code="UNAUTHORIZED", status=401)

    def _token(self, *, fresh: bool) -> Token:
        if not fresh:
            cached = self._tokens.get(self._key)
            if cached is not None:
                return cached
        values = self._credentials.values
        token = client_credentials_token(
            self._http,
            f"{self.settings.login_url}/{quote(self.settings.tenant_id, safe='')}/oauth2/v2.0/token",
            {
                "client_id": values["client_id"],
                "client_secret": values["client_secret"],
                "scope": f"{self.settings.instance_url}/.default",
            },
            issuer="Entra ID",
            refused_code="invalid_client",
            default_lifetime=3599.0,
        )
        self._tokens.put(self._key, token)
        return token

    def _observe(self, response: HttpResponse) -> None:
        remaining = response.header("x-ms-ratelimit-burst-remaining-xrm-requests")
        if remaining and remaining.strip().isdigit():
            left = min(int(remaining), BURST_LIMIT)
            self._usage = ApiUsage(used=BURST_LIMIT - left, limit=BURST_LIMIT)

    def _error(self, response: HttpResponse, *, list_id: str | None, email: str | None) -> ConnectorError:
        error: dict[str, Any] = {}
        if response.status < 500 or response.body.strip().startswith(b"{"):
            reply = json_body(response, allow_empty=True)
            if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
                error = reply["error"]
            elif reply is not None and response.status < 500:
                raise MalformedReply(
                    f"Dataverse answered {response.status} without its error shape", status=response.status
                )
        code = str(error.get("code") or f"HTTP_{response.status}")
        message = short(error.get("message") or f"Dataverse answered {response.status}", redact=email)
        if response.status == 429:
            return Throttled(message, code=code, status=429, retry_after=retry_after(response))
        if response.status >= 500:
            return Unavailable(message, code=code, status=response.status, retry_after=retry_after(response))
        if list_id and (response.status == 404 or code in NOT_FOUND_CODES):
            return UnknownCampaign(list_id, code=code, status=response.status)
        if response.status == 403:
            return AuthFailed(message, code=code, status=403)
        return RemoteRejected(message, code=code, status=response.status)
