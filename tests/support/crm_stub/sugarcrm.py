"""SugarCRM as the stub answers it: OAuth2 password and refresh grants, Leads, ProspectLists links.

Access tokens expire on the stub's command (``expire_token``), refresh tokens are single use
(as Sugar rotates them), and ``revoke_refresh`` makes the next refresh fail with invalid_grant.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from tests.support.crm_stub import Reply, Request, VendorStub, recorded

VENDOR = "sugarcrm"
USERNAME = "leadflow-api"
PASSWORD = "sugar-stub-password"
TOKEN_PATH = "/rest/v11/oauth2/token"
API = "/rest/v11/"


class SugarStub(VendorStub):
    vendor = VENDOR

    def __init__(self) -> None:
        super().__init__()
        self.leads: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.grants: list[tuple[str, str]] = []  # (grant_type, platform), in order

    @property
    def state(self) -> dict[str, Any]:
        return {"Leads": list(self.leads.values()), "ProspectLists": self.lists}

    def seed(self, data: Mapping[str, Any]) -> None:
        for list_id in data.get("campaigns", []):
            self.lists[list_id] = {"id": list_id, "name": f"Target list {list_id}", "leads": []}
        for lead in data.get("leads", []):
            self.add_lead(lead)

    def add_lead(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        lead = {
            "id": str(uuid.uuid4()),
            "date_entered": f"2026-12-01T09:00:{len(self.leads):02d}+00:00",
            **fields,
        }
        self.leads[lead["id"]] = lead
        return lead

    def revoke_refresh(self) -> None:
        self.refresh_tokens.clear()

    def is_token_request(self, request: Request) -> bool:
        return request.path == TOKEN_PATH

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def fault_reply(self, fault: str) -> Reply:
        return recorded(VENDOR, {"throttle": "throttled", "error_500": "server_error"}.get(fault, "not_json"))

    def answer(self, request: Request) -> Reply:
        if self.is_token_request(request):
            return self._token(request.json())
        if not request.path.startswith(API):
            return Reply(404, {"error": "not_found", "error_message": "Could not find a route"})
        if request.headers.get("oauth-token") not in self.tokens:
            return recorded(VENDOR, "invalid_token")
        return self._api(request, request.path[len(API) :].split("/"))

    def _token(self, body: Mapping[str, Any]) -> Reply:
        grant = body.get("grant_type")
        self.grants.append((str(grant), str(body.get("platform"))))
        if body.get("client_id") != "sugar":
            return Reply(400, {"error": "invalid_client", "error_message": "Client authentication failed"})
        if grant == "password":
            if body.get("username") != USERNAME or body.get("password") != PASSWORD:
                return recorded(VENDOR, "invalid_grant_login")
        elif grant == "refresh_token":
            if body.get("refresh_token") not in self.refresh_tokens:
                return recorded(VENDOR, "invalid_grant_refresh")
            self.refresh_tokens.discard(body["refresh_token"])
        else:
            return Reply(
                400, {"error": "unsupported_grant_type", "error_message": "grant type not supported"}
            )
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.tokens.add(access)
        self.refresh_tokens.add(refresh)
        return recorded(
            VENDOR, "token", access_token=access, refresh_token=refresh, download_token=secrets.token_hex(8)
        )

    def _api(self, request: Request, parts: list[str]) -> Reply:
        if parts == ["Leads", "filter"] and request.method == "POST":
            return self._filter(request.json())
        if parts == ["Leads"] and request.method == "POST":
            fields = request.json()
            if not fields.get("last_name"):
                return recorded(VENDOR, "missing_parameter", detail="Missing parameter: last_name")
            lead = self.add_lead(fields)
            return Reply(200, {**lead, "_module": "Leads"})
        if len(parts) >= 4 and parts[0] == "ProspectLists" and parts[2] == "link" and parts[3] == "leads":
            found = self.lists.get(parts[1])
            if found is None:
                return recorded(VENDOR, "not_found", id=parts[1])
            if len(parts) == 4 and request.method == "GET":
                wanted = request.arg("filter[0][id][$equals]")
                rows = [{"id": lead, "_module": "Leads"} for lead in found["leads"] if wanted in (None, lead)]
                return Reply(200, {"next_offset": -1, "records": rows[: int(request.arg("max_num") or 20)]})
            if len(parts) == 5 and request.method == "POST":
                if parts[4] not in self.leads:
                    return Reply(
                        404,
                        {
                            "error": "not_found",
                            "error_message": f"Could not find record: {parts[4]} in module: Leads",
                        },
                    )
                if parts[4] not in found["leads"]:
                    found["leads"].append(parts[4])
                return recorded(VENDOR, "link", id=found["id"], name=found["name"], lead_id=parts[4])
        return Reply(404, {"error": "not_found", "error_message": "Could not find a route"})

    def _filter(self, body: Mapping[str, Any]) -> Reply:
        [clause] = body.get("filter") or [{}]
        wanted = str(clause.get("email_addresses.email_address", {}).get("$equals", "")).lower()
        rows = [
            {"id": lead["id"], "_module": "Leads"}
            for lead in sorted(self.leads.values(), key=lambda lead: lead["date_entered"])
            if any(str(e.get("email_address", "")).lower() == wanted for e in lead.get("email") or [])
        ]
        return Reply(200, {"next_offset": -1, "records": rows[: int(body.get("max_num") or 20)]})
