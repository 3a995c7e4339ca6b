"""Salesforce REST API client: Leads, Contacts and CampaignMembers, one by one or in collections.

- Auth: OAuth 2.0 client credentials at ``{instance_url}/services/oauth2/token``; the token is kept
  in the container's cache until Salesforce answers 401 ``INVALID_SESSION_ID`` (then one new token
  and one retry).
- Person: the Contact with the email when one exists, else the unconverted Lead, else a new Lead
  (LastName and Company are required: the contact's values or ``[not provided]``). Never a
  duplicate Lead for a known email.
- Membership: create the CampaignMember; ``DUPLICATE_VALUE`` means it exists: find it, PATCH its
  Status if it differs. A status change looks the member up by campaign and email first.
- Catch-up: sObject Collections, 200 records a call, ``allOrNone: false``, one outcome per row.
- Inbound: CampaignMember rows ordered by ``SystemModstamp, Id``; the watermark is the last row's
  own ``SystemModstamp|Id`` (Salesforce's clock, never ours), so rows sharing a stamp are not lost.
- Limits: every reply's ``Sforce-Limit-Info: api-usage=N/M`` is kept (``usage()``).
"""

# ruff: noqa: S608 -- SOQL, not SQL: every literal goes through soql_string, soql_id or soql_datetime

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    RemoteChange,
    RemoteRejected,
    SyncResult,
    Throttled,
    Token,
    TokenCache,
    Unavailable,
    UnknownCampaign,
)
from leadflow.adapters.crm.common import chunks, client_credentials_token, short, token_key
from leadflow.adapters.crm.http import HttpClient, HttpResponse, encode, json_body, retry_after
from leadflow.domain.crm_connectors import SALESFORCE_ID, ConnectorSettings, SalesforceSettings

NOT_PROVIDED = "[not provided]"
COLLECTION_SIZE = 200
IN_LIST_BUDGET = 6000
"""Characters of quoted emails per ``IN (...)`` query: the GET URL stays far below Salesforce's 16 KB."""
RETRYABLE_ROW_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"})
LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")
LEAD_FIELDS = {"first_name": "FirstName", "last_name": "LastName", "company": "Company", "phone": "Phone"}


def soql_string(value: str) -> str:
    """A SOQL string literal: backslash and quotes escaped (``o'brien`` cannot end the literal)."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("\b", "\\b")
        .replace("\f", "\\f")
    )
    return f"'{escaped}'"


def soql_id(value: str) -> str:
    """A record id literal; refuses anything that is not an id (it goes into a query)."""
    if not SALESFORCE_ID.fullmatch(value):
        raise RemoteRejected(f"{value[:40]!r} is not a Salesforce id", code="INVALID_ID")
    return f"'{value}'"


def soql_datetime(stamp: str) -> str:
    """A SystemModstamp (``2026-12-01T12:00:00.000+0000``) as a SOQL datetime literal."""
    if not STAMP.fullmatch(stamp):
        raise RemoteRejected(f"{stamp[:40]!r} is not a Salesforce timestamp", code="INVALID_WATERMARK")
    if stamp.endswith("Z"):
        return stamp
    return stamp[:-5] + stamp[-5:-2] + ":" + stamp[-2:] if stamp[-3] != ":" else stamp


@dataclass(frozen=True)
class _Person:
    id: str
    kind: str  # "Lead" | "Contact"

    @property
    def member_field(self) -> str:
        return "LeadId" if self.kind == "Lead" else "ContactId"


class SalesforceConnector:
    kind: ClassVar[str] = "salesforce"

    def __init__(
        self, settings: ConnectorSettings, credentials: Credentials, http: HttpClient, tokens: TokenCache
    ) -> None:
        if not isinstance(settings, SalesforceSettings):
            raise TypeError("SalesforceConnector needs SalesforceSettings")
        self.settings = settings
        self._credentials = credentials
        self._http = http
        self._tokens = tokens
        self._key = token_key(settings.id, credentials)
        self._usage: ApiUsage | None = None
        self._api = f"{settings.instance_url}/services/data/v{settings.api_version}"

    # -- the interface -------------------------------------------------------------------------

    def usage(self) -> ApiUsage | None:
        return self._usage

    def sync_member(self, member: MemberSync) -> SyncResult:
        campaign = soql_id(member.external_campaign_id)
        email = member.contact.email
        if member.previous_status is not None:
            existing = self._query_one(
                "SELECT Id, Status, LeadId, ContactId FROM CampaignMember "
                f"WHERE CampaignId = {campaign} AND Email = {soql_string(email)} ORDER BY CreatedDate LIMIT 1"
            )
            if existing is not None:
                person = (
                    _Person(existing["ContactId"], "Contact")
                    if existing.get("ContactId")
                    else _Person(existing["LeadId"], "Lead")
                )
                self._set_status(existing, member.status)
                return SyncResult(member.change_id, person.id, existing["Id"], False, False)
        person, created_person = self._find_or_create_person(member)
        member_id, created_member = self._add_member(member, person)
        return SyncResult(member.change_id, person.id, member_id, created_person, created_member)

    def sync_members(self, members: Sequence[MemberSync]) -> list[SyncResult | ConnectorError]:
        outcomes: list[SyncResult | ConnectorError | None] = [None] * len(members)
        for chunk_start in range(0, len(members), COLLECTION_SIZE):
            indexes = list(range(chunk_start, min(chunk_start + COLLECTION_SIZE, len(members))))
            self._sync_chunk(members, indexes, outcomes)
        return [
            outcome if outcome is not None else RemoteRejected("not attempted", code="NOT_ATTEMPTED")
            for outcome in outcomes
        ]

    def changes_since(self, watermark: str | None, *, limit: int) -> ChangePage:
        limit = max(1, min(limit, 2000))
        where = ""
        if watermark:
            stamp, _, last_id = watermark.partition("|")
            moment = soql_datetime(stamp)
            where = f"WHERE SystemModstamp > {moment} "
            if last_id:
                where = f"WHERE (SystemModstamp > {moment} OR (SystemModstamp = {moment} AND Id > {soql_id(last_id)})) "
        rows = self._query(
            "SELECT Id, CampaignId, Email, Status, SystemModstamp FROM CampaignMember "
            f"{where}ORDER BY SystemModstamp, Id LIMIT {limit + 1}"
        )
        more = len(rows) > limit
        rows = rows[:limit]
        for row in rows:
            if not all(isinstance(row.get(name), str) for name in ("CampaignId", "Status", "SystemModstamp")):
                raise MalformedReply(
                    "a CampaignMember row lacks CampaignId, Status or SystemModstamp", code="BAD_QUERY_REPLY"
                )
        changes = [
            RemoteChange(
                external_member_id=str(row["Id"]),
                external_campaign_id=str(row["CampaignId"]),
                email=row.get("Email"),
                status=str(row["Status"]),
                modified_at=str(row["SystemModstamp"]),
            )
            for row in rows
        ]
        last = changes[-1] if changes else None
        new_mark = f"{last.modified_at}|{last.external_member_id}" if last else watermark
        return ChangePage(changes=changes, watermark=new_mark, more=more)

    # -- one membership ------------------------------------------------------------------------

    def _find_person(self, email: str) -> _Person | None:
        literal = soql_string(email)
        contact = self._query_one(
            f"SELECT Id FROM Contact WHERE Email = {literal} ORDER BY CreatedDate LIMIT 1"
        )
        if contact is not None:
            return _Person(contact["Id"], "Contact")
        lead = self._query_one(
            f"SELECT Id FROM Lead WHERE Email = {literal} AND IsConverted = false ORDER BY CreatedDate LIMIT 1"
        )
        return _Person(lead["Id"], "Lead") if lead is not None else None

    def _find_or_create_person(self, member: MemberSync) -> tuple[_Person, bool]:
        found = self._find_person(member.contact.email)
        if found is not None:
            return found, False
        reply = self._call("POST", "/sobjects/Lead", self._lead_body(member), expect=(201,))
        return _Person(self._created_id(reply), "Lead"), True

    def _add_member(self, member: MemberSync, person: _Person) -> tuple[str, bool]:
        body = {
            "CampaignId": member.external_campaign_id,
            person.member_field: person.id,
            "Status": member.status,
        }
        response = self._send("POST", "/sobjects/CampaignMember", body)
        if response.status == 201:
            return self._created_id(json_body(response)), True
        errors = self._errors(response)
        if any(error.get("errorCode") == "DUPLICATE_VALUE" for error in errors):
            existing = self._query_one(
                f"SELECT Id, Status FROM CampaignMember WHERE CampaignId = {soql_id(member.external_campaign_id)} "
                f"AND {person.member_field} = {soql_id(person.id)} LIMIT 1"
            )
            if existing is None:
                raise Unavailable(
                    "Salesforce reported a duplicate member it then did not return", code="DUPLICATE_VALUE"
                )
            self._set_status(existing, member.status)
            return str(existing["Id"]), False
        raise self._error(
            response, errors, campaign_id=member.external_campaign_id, email=member.contact.email
        )

    def _set_status(self, existing: Mapping[str, Any], status: str) -> None:
        if existing.get("Status") == status:
            return
        self._call(
            "PATCH",
            f"/sobjects/CampaignMember/{quote(str(existing['Id']), safe='')}",
            {"Status": status},
            expect=(204,),
        )

    def _lead_body(self, member: MemberSync) -> dict[str, Any]:
        contact = member.contact
        body: dict[str, Any] = dict(contact.fields)
        body["Email"] = contact.email
        for attribute, field_name in LEAD_FIELDS.items():
            value = getattr(contact, attribute)
            if value:
                body[field_name] = value
        body.setdefault("LastName", NOT_PROVIDED)
        body.setdefault("Company", NOT_PROVIDED)
        return body

    # -- collections ---------------------------------------------------------------------------

    def _sync_chunk(
        self,
        members: Sequence[MemberSync],
        indexes: list[int],
        outcomes: list[SyncResult | ConnectorError | None],
    ) -> None:
        valid: list[int] = []
        for index in indexes:
            if SALESFORCE_ID.fullmatch(members[index].external_campaign_id):
                valid.append(index)
            else:
                outcomes[index] = RemoteRejected("the campaign id is not a Salesforce id", code="INVALID_ID")
        emails = sorted({members[index].contact.email for index in valid})
        people = self._find_people(emails)
        # 1. Leads for the emails Salesforce does not know, one per email
        missing = [email for email in emails if email not in people]
        first_row = {members[index].contact.email: index for index in reversed(valid)}
        created_people: set[str] = set()
        for batch in chunks(missing, COLLECTION_SIZE):
            records = [
                {"attributes": {"type": "Lead"}, **self._lead_body(members[first_row[email]])}
                for email in batch
            ]
            for email, row in zip(batch, self._collection("POST", records), strict=True):
                if row.get("success"):
                    people[email] = _Person(str(row["id"]), "Lead")
                    created_people.add(email)
                else:
                    error = self._row_error(row, email=email)
                    for index in valid:
                        if members[index].contact.email == email:
                            outcomes[index] = error
        # 2. the members: the last change per (campaign, person) wins; earlier rows share its outcome
        pending = [index for index in valid if outcomes[index] is None]
        latest: dict[tuple[str, str], int] = {}
        for index in pending:
            person = people[members[index].contact.email]
            latest[(members[index].external_campaign_id, person.id)] = index
        existing = self._find_members(list(latest), people)
        creates: list[tuple[tuple[str, str], dict[str, Any]]] = []
        updates: list[tuple[tuple[str, str], dict[str, Any]]] = []
        results: dict[tuple[str, str], SyncResult | ConnectorError] = {}
        for key, index in latest.items():
            member = members[index]
            person = people[member.contact.email]
            found = existing.get(key)
            if found is None:
                body = {"CampaignId": key[0], person.member_field: person.id, "Status": member.status}
                creates.append((key, {"attributes": {"type": "CampaignMember"}, **body}))
            elif found.get("Status") != member.status:
                updates.append(
                    (
                        key,
                        {
                            "attributes": {"type": "CampaignMember"},
                            "Id": found["Id"],
                            "Status": member.status,
                        },
                    )
                )
            else:
                results[key] = self._result(member, person, str(found["Id"]), created_people, False)
        duplicates: list[tuple[str, str]] = []
        for create_batch in chunks(creates, COLLECTION_SIZE):
            for (key, _), row in zip(
                create_batch, self._collection("POST", [body for _, body in create_batch]), strict=True
            ):
                member = members[latest[key]]
                if row.get("success"):
                    results[key] = self._result(
                        member, people[member.contact.email], str(row["id"]), created_people, True
                    )
                elif any(error.get("statusCode") == "DUPLICATE_VALUE" for error in row.get("errors") or []):
                    duplicates.append(key)
                else:
                    results[key] = self._row_error(row, campaign_id=key[0], email=member.contact.email)
        if duplicates:  # members made meanwhile (another writer): read them, then update like the rest
            again = self._find_members(duplicates, people)
            for key in duplicates:
                member = members[latest[key]]
                found = again.get(key)
                if found is None:
                    results[key] = Unavailable(
                        "Salesforce reported a duplicate member it then did not return"
                    )
                elif found.get("Status") != member.status:
                    updates.append(
                        (
                            key,
                            {
                                "attributes": {"type": "CampaignMember"},
                                "Id": found["Id"],
                                "Status": member.status,
                            },
                        )
                    )
                else:
                    results[key] = self._result(
                        member, people[member.contact.email], str(found["Id"]), created_people, False
                    )
        for update_batch in chunks(updates, COLLECTION_SIZE):
            for (key, update), row in zip(
                update_batch, self._collection("PATCH", [body for _, body in update_batch]), strict=True
            ):
                member = members[latest[key]]
                if row.get("success"):
                    results[key] = self._result(
                        member, people[member.contact.email], str(update["Id"]), created_people, False
                    )
                else:
                    results[key] = self._row_error(row, campaign_id=key[0], email=member.contact.email)
        for index in pending:
            member = members[index]
            key = (member.external_campaign_id, people[member.contact.email].id)
            outcome = results[key]
            if isinstance(outcome, SyncResult):
                outcome = SyncResult(
                    member.change_id,
                    outcome.external_person_id,
                    outcome.external_member_id,
                    outcome.created_person and index == latest[key],
                    outcome.created_member and index == latest[key],
                )
            outcomes[index] = outcome

    @staticmethod
    def _result(
        member: MemberSync, person: _Person, member_id: str, created_people: set[str], created: bool
    ) -> SyncResult:
        return SyncResult(
            member.change_id, person.id, member_id, member.contact.email in created_people, created
        )

    def _find_people(self, emails: list[str]) -> dict[str, _Person]:
        """Contacts first, then unconverted Leads, by email, in IN-lists that keep the URL short."""
        found: dict[str, _Person] = {}
        for sobject, extra in (("Contact", ""), ("Lead", " AND IsConverted = false")):
            wanted = [email for email in emails if email not in found]
            for group in _in_groups(wanted):
                in_list = ", ".join(soql_string(email) for email in group)
                for row in self._query(
                    f"SELECT Id, Email FROM {sobject} WHERE Email IN ({in_list}){extra} ORDER BY CreatedDate"
                ):
                    match = _match_email(row.get("Email"), group)
                    if match is not None and match not in found:
                        found[match] = _Person(str(row["Id"]), sobject)
        return found

    def _find_members(
        self, keys: list[tuple[str, str]], people: dict[str, _Person]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        wanted = set(keys)
        for group in chunks(sorted(wanted), COLLECTION_SIZE):
            campaigns = ", ".join(soql_id(c) for c in sorted({c for c, _ in group}))
            persons = ", ".join(soql_id(p) for p in sorted({p for _, p in group}))
            for row in self._query(
                "SELECT Id, CampaignId, LeadId, ContactId, Status FROM CampaignMember "
                f"WHERE CampaignId IN ({campaigns}) AND (LeadId IN ({persons}) OR ContactId IN ({persons}))"
            ):
                for person_id in (row.get("ContactId"), row.get("LeadId")):
                    key = (str(row.get("CampaignId")), str(person_id))
                    if person_id and key in wanted:
                        found[key] = row
        del people
        return found

    def _collection(self, method: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        reply = self._call(
            method, "/composite/sobjects", {"allOrNone": False, "records": records}, expect=(200,)
        )
        if (
            not isinstance(reply, list)
            or len(reply) != len(records)
            or not all(isinstance(r, dict) for r in reply)
            or any(r.get("success") and not isinstance(r.get("id"), str) for r in reply)
        ):
            raise MalformedReply(
                "the collection reply does not have one result per record", code="BAD_COLLECTION"
            )
        return reply

    def _row_error(
        self, row: Mapping[str, Any], *, campaign_id: str | None = None, email: str | None = None
    ) -> ConnectorError:
        errors = [e for e in row.get("errors") or [] if isinstance(e, dict)]
        first = errors[0] if errors else {}
        code = str(first.get("statusCode") or "ERROR")
        fields = [str(f) for f in first.get("fields") or []]
        if campaign_id and code == "INVALID_CROSS_REFERENCE_KEY" and ("CampaignId" in fields or not fields):
            return UnknownCampaign(campaign_id, code=code)
        message = short(first.get("message") or "the row was refused", redact=email)
        if code in RETRYABLE_ROW_CODES:
            return Unavailable(message, code=code)
        return RemoteRejected(message, code=code, fields=dict.fromkeys(fields, code))

    # -- HTTP ----------------------------------------------------------------------------------

    def _query(self, soql: str) -> list[dict[str, Any]]:
        path: str | None = "/query?" + urlencode({"q": soql})
        rows: list[dict[str, Any]] = []
        while path:
            reply = self._call("GET", path, None, expect=(200,))
            if not isinstance(reply, dict) or not isinstance(reply.get("records"), list):
                raise MalformedReply("the query reply has no records list", code="BAD_QUERY_REPLY")
            records = reply["records"]
            if not all(isinstance(r, dict) and isinstance(r.get("Id"), str) for r in records):
                raise MalformedReply("a query row has no Id", code="BAD_QUERY_REPLY")
            rows.extend(records)
            next_url = reply.get("nextRecordsUrl")
            path = None
            if (
                not reply.get("done", True)
                and isinstance(next_url, str)
                and next_url.startswith("/services/data/")
            ):
                path = next_url.split(f"/v{self.settings.api_version}", 1)[-1]
        return rows

    def _query_one(self, soql: str) -> dict[str, Any] | None:
        rows = self._query(soql)
        return rows[0] if rows else None

    @staticmethod
    def _created_id(reply: Any) -> str:
        if not isinstance(reply, dict) or not isinstance(reply.get("id"), str):
            raise MalformedReply("the create reply has no id", code="BAD_CREATE_REPLY")
        return reply["id"]

    def _call(self, method: str, path: str, body: Any, *, expect: tuple[int, ...]) -> Any:
        response = self._send(method, path, body)
        if response.status in expect:
            return json_body(response, allow_empty=response.status == 204)
        raise self._error(response, self._errors(response))

    def _send(self, method: str, path: str, body: Any) -> HttpResponse:
        """One API call with the cached token; on INVALID_SESSION_ID one new token and one retry."""
        payload = encode(body) if body is not None else None
        for attempt in (1, 2):
            token = self._token(fresh=attempt == 2)
            headers = {"Authorization": f"Bearer {token.access_token}", "Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            response = self._http.request(method, self._api + path, headers=headers, body=payload)
            self._observe(response)
            if response.status != 401:
                return response
            self._tokens.drop(self._key)
        raise AuthFailed("Salesforce refused a new token's session", code="INVALID_SESSION_ID", status=401)

    def _token(self, *, fresh: bool) -> Token:
        if not fresh:
            cached = self._tokens.get(self._key)
            if cached is not None:
                return cached
        values = self._credentials.values
        token = client_credentials_token(
            self._http,
            f"{self.settings.instance_url}/services/oauth2/token",
            {"client_id": values["client_id"], "client_secret": values["client_secret"]},
            issuer="Salesforce",
            refused_code="invalid_grant",
            throttled_codes=("rate_limit_exceeded",),
        )
        self._tokens.put(self._key, token)
        return token

    def _observe(self, response: HttpResponse) -> None:
        info = response.header("sforce-limit-info")
        match = LIMIT_INFO.search(info or "")
        if match:
            self._usage = ApiUsage(used=int(match.group(1)), limit=int(match.group(2)))

    @staticmethod
    def _errors(response: HttpResponse) -> list[dict[str, Any]]:
        if response.status < 500:
            reply = json_body(response, allow_empty=True)
            if isinstance(reply, list):
                return [error for error in reply if isinstance(error, dict)]
            if isinstance(reply, dict):
                return [reply]
        return []

    def _error(
        self,
        response: HttpResponse,
        errors: list[dict[str, Any]],
        *,
        campaign_id: str | None = None,
        email: str | None = None,
    ) -> ConnectorError:
        first = errors[0] if errors else {}
        code = str(first.get("errorCode") or f"HTTP_{response.status}")
        message = short(first.get("message") or f"Salesforce answered {response.status}", redact=email)
        fields = [str(f) for f in first.get("fields") or []]
        if response.status >= 500:
            return Unavailable(message, code=code, status=response.status, retry_after=retry_after(response))
        if code == "REQUEST_LIMIT_EXCEEDED" or response.status == 429:
            return Throttled(message, code=code, status=response.status, retry_after=retry_after(response))
        if (
            campaign_id
            and code in {"INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}
            and ("CampaignId" in fields or not fields)
        ):
            return UnknownCampaign(campaign_id, code=code, status=response.status)
        if code in RETRYABLE_ROW_CODES:
            return Unavailable(message, code=code, status=response.status)
        return RemoteRejected(message, code=code, status=response.status, fields=dict.fromkeys(fields, code))


def _in_groups(emails: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    size = IN_LIST_BUDGET + 1
    for email in emails:
        cost = len(soql_string(email)) + 2
        if size + cost > IN_LIST_BUDGET:
            groups.append([])
            size = 0
        groups[-1].append(email)
        size += cost
    return groups


def _match_email(value: object, group: list[str]) -> str | None:
    """Salesforce compares emails without case: map its value back to the email we asked for."""
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    return next((email for email in group if email.lower() == lowered), None)
