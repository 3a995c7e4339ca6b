"""Dynamics 365 as the stub answers it: Entra ID's token endpoint and the Dataverse Web API.

Only what the connector uses: ``leads`` (query by ``$filter``, or the ``emailaddress1`` alternate
key when ``alternate_key`` is on), ``lists(id)/listlead_association``, the bound ``AddMemberList``
action, ``lists(id)/campaignlist_association`` and ``campaignresponses``. ``$filter`` understands
``field eq value`` joined by ``and``, with OData's doubled-quote escape.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from tests.support.crm_stub import Reply, Request, VendorStub, recorded

VENDOR = "dynamics"
TENANT = "00000000-0000-0000-0000-0000000000aa"
CLIENT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_SECRET = "dynamics-stub-secret"
API = "/api/data/v9.2/"
FILTER_TERM = re.compile(
    r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+eq\s+('(?:[^']|'')*'|[0-9a-fA-F-]{36}|\d+)\s*(?:and\s+|$)"
)
ENTITY = re.compile(r"^(\w+)\((.+)\)(?:/(.+))?$")


def parse_filter(text: str) -> list[tuple[str, str]]:
    """``a eq 'x' and b eq 1`` as ``[(a, x), (b, 1)]``; ValueError for anything else."""
    terms, position = [], 0
    while position < len(text):
        match = FILTER_TERM.match(text, position)
        if not match:
            raise ValueError(f"Invalid $filter at position {position}")
        value = match.group(2)
        terms.append((match.group(1), value[1:-1].replace("''", "'") if value.startswith("'") else value))
        position = match.end()
    return terms


class DynamicsStub(VendorStub):
    vendor = VENDOR

    def __init__(self) -> None:
        super().__init__()
        self.leads: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.api_calls = 0
        self.alternate_key = False
        self.retry_after = "7"

    @property
    def state(self) -> dict[str, Any]:
        return {"leads": list(self.leads.values()), "lists": self.lists, "campaignresponses": self.responses}

    def seed(self, data: Mapping[str, Any]) -> None:
        for list_id in data.get("campaigns", []):
            self.lists[list_id.lower()] = {
                "listid": list_id,
                "members": {},
                "campaignid": str(uuid.uuid5(uuid.NAMESPACE_URL, list_id)),
            }
        for lead in data.get("leads", []):
            self.add_lead(lead)

    def add_lead(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        lead = {
            "leadid": str(uuid.uuid4()),
            "createdon": f"2026-12-01T09:00:{len(self.leads):02d}Z",
            **fields,
        }
        self.leads[lead["leadid"]] = lead
        return lead

    def is_token_request(self, request: Request) -> bool:
        return request.path.endswith("/oauth2/v2.0/token")

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def fault_reply(self, fault: str) -> Reply:
        self.api_calls += 1
        if fault == "throttle":
            return recorded(VENDOR, "throttled")
        if fault == "error_500":
            return recorded(VENDOR, "server_error")
        return recorded(VENDOR, "not_json")

    def answer(self, request: Request) -> Reply:
        if self.is_token_request(request):
            return self._token(request)
        if not request.path.startswith(API):
            return Reply(
                404, {"error": {"code": "0x8006088a", "message": "Resource not found for the segment."}}
            )
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return recorded(VENDOR, "unauthorized")
        self.api_calls += 1
        reply = self._api(request, unquote(request.path[len(API) :]))
        reply.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] = str(max(0, 6000 - self.api_calls))
        return reply

    def _token(self, request: Request) -> Reply:
        body = request.form()
        if request.path != f"/{TENANT}/oauth2/v2.0/token":
            return Reply(
                400, {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."}
            )
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return recorded(VENDOR, "token_invalid_client")
        if not body.get("scope", "").endswith("/.default"):
            return Reply(
                400,
                {
                    "error": "invalid_scope",
                    "error_description": "AADSTS70011: The provided scope is not valid.",
                },
            )
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return recorded(VENDOR, "token", access_token=token)

    def _api(self, request: Request, path: str) -> Reply:
        api = f"http://{request.headers.get('host', '127.0.0.1')}{API.rstrip('/')}"
        if path == "leads" and request.method == "GET":
            try:
                terms = parse_filter(request.arg("$filter") or "")
            except ValueError as error:
                return recorded(VENDOR, "bad_request", detail=str(error))
            rows = [lead for lead in self.leads.values() if all(_eq(lead.get(k), v) for k, v in terms)]
            rows.sort(key=lambda lead: lead["createdon"])
            return Reply(
                200,
                {
                    "@odata.context": f"{api}/$metadata#leads(leadid)",
                    "value": rows[: int(request.arg("$top") or 5000)],
                },
            )
        if path == "leads" and request.method == "POST":
            fields = request.json()
            if not fields.get("lastname"):
                return recorded(VENDOR, "bad_request", detail="lastname is required")
            lead = self.add_lead(fields)
            return recorded(VENDOR, "created", api=api, id=lead["leadid"])
        if path == "campaignresponses" and request.method == "GET":
            terms = parse_filter(request.arg("$filter") or "")
            rows = [r for r in self.responses if all(_eq(r.get(k), v) for k, v in terms)]
            return Reply(200, {"value": rows[: int(request.arg("$top") or 5000)]})
        if path == "campaignresponses" and request.method == "POST":
            body = request.json()
            campaign = body.get("regardingobjectid_campaign@odata.bind", "")
            parties = body.get("campaignresponse_activity_parties") or []
            response = {
                "activityid": str(uuid.uuid4()),
                "subject": body.get("subject"),
                "_regardingobjectid_value": campaign.removeprefix("/campaigns(").removesuffix(")"),
                "lead": (parties[0].get("partyid_lead@odata.bind", "") if parties else "")
                .removeprefix("/leads(")
                .removesuffix(")"),
            }
            self.responses.append(response)
            return Reply(
                204, headers={"OData-EntityId": f"{api}/campaignresponses({response['activityid']})"}
            )
        entity = ENTITY.match(path)
        if entity and entity.group(1) == "leads" and request.method == "GET" and self.alternate_key:
            key = entity.group(2)
            match = re.fullmatch(r"emailaddress1='((?:[^']|'')*)'", key)
            if not match:
                return recorded(VENDOR, "bad_request", detail="invalid key")
            email = match.group(1).replace("''", "'")
            found = next(
                (lead for lead in self.leads.values() if _eq(lead.get("emailaddress1"), email)), None
            )
            if found is None:
                return Reply(
                    404,
                    {
                        "error": {
                            "code": "0x80040217",
                            "message": "lead With Ids = emailaddress1 Does Not Exist",
                        }
                    },
                )
            return Reply(200, {"leadid": found["leadid"]})
        if entity and entity.group(1) == "lists":
            return self._list(request, entity.group(2).lower(), entity.group(3) or "")
        return Reply(404, {"error": {"code": "0x8006088a", "message": "Resource not found for the segment."}})

    def _list(self, request: Request, list_id: str, tail: str) -> Reply:
        found = self.lists.get(list_id)
        if found is None:
            return recorded(VENDOR, "list_not_found", id=list_id)
        if tail == "listlead_association" and request.method == "GET":
            terms = dict(parse_filter(request.arg("$filter") or ""))
            rows = [{"leadid": lead} for lead in found["members"] if terms.get("leadid", lead) == lead]
            return Reply(200, {"value": rows})
        if tail == "campaignlist_association" and request.method == "GET":
            return Reply(200, {"value": [{"campaignid": found["campaignid"]}] if found["campaignid"] else []})
        if tail == "Microsoft.Dynamics.CRM.AddMemberList" and request.method == "POST":
            lead_id = request.json().get("EntityId")
            if lead_id not in self.leads:
                return Reply(
                    404,
                    {"error": {"code": "0x80040217", "message": f"lead With Id = {lead_id} Does Not Exist"}},
                )
            member_id = found["members"].setdefault(lead_id, str(uuid.uuid4()))
            return Reply(
                200,
                {"@odata.context": "$metadata#Microsoft.Dynamics.CRM.AddMemberListResponse", "Id": member_id},
            )
        return Reply(404, {"error": {"code": "0x8006088a", "message": "Resource not found for the segment."}})


def _eq(value: Any, wanted: str) -> bool:
    return str(value).lower() == wanted.lower()  # Dataverse compares text without case
