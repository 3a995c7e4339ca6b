"""Salesforce as the stub answers it: OAuth client credentials, SOQL, sObjects, sObject Collections.

Records live per sObject; ``SystemModstamp`` comes from the stub's own clock, one second per
write (``same_stamp`` freezes it so tests can make rows share a stamp). Replies carry
``Sforce-Limit-Info: api-usage=N/M`` like Salesforce's.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.crm_stub import Reply, Request, VendorStub, recorded
from tests.support.crm_stub.soql import MalformedQueryError, parse

VENDOR = "salesforce"
PREFIX = {"Lead": "00Q", "Contact": "003", "Campaign": "701", "CampaignMember": "00v"}
CLIENT_ID = "leadflow-stub-client"
CLIENT_SECRET = "leadflow-stub-secret"
EPOCH = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def sf_stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class SalesforceStub(VendorStub):
    vendor = VENDOR

    def __init__(self, *, api_limit: int = 15000) -> None:
        super().__init__()
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in PREFIX}
        self.tokens: set[str] = set()
        self.api_calls = 0
        self.api_limit = api_limit
        self.clock = EPOCH
        self.same_stamp = False
        self.row_faults: list[str] = []  # statusCodes for the next collection rows

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        return {name: list(rows.values()) for name, rows in self.records.items()}

    def seed(self, data: Mapping[str, Any]) -> None:
        for campaign in data.get("campaigns", []):
            self.add("Campaign", {"Id": campaign, "Name": f"Campaign {campaign}"})
        for contact in data.get("contacts", []):
            self.add("Contact", dict(contact))
        for lead in data.get("leads", []):
            self.add("Lead", {"IsConverted": False, **lead})

    def add(self, sobject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        record = dict(fields)
        record.setdefault("Id", self.new_id(PREFIX[sobject], 15) + "AAA")
        record["CreatedDate"] = record["SystemModstamp"] = self.tick()
        if sobject == "CampaignMember":
            person = self.records["Lead"].get(record.get("LeadId") or "") or self.records["Contact"].get(
                record.get("ContactId") or ""
            )
            record["Email"] = person.get("Email") if person else None
        self.records[sobject][record["Id"]] = record
        return record

    def members(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.records["CampaignMember"].values() if campaign_id in (None, m["CampaignId"])]

    def tick(self) -> str:
        if not self.same_stamp:
            self.clock += timedelta(seconds=1)
        return sf_stamp(self.clock)

    # -- VendorStub ----------------------------------------------------------------------------

    def is_token_request(self, request: Request) -> bool:
        return request.path == "/services/oauth2/token"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def fault_reply(self, fault: str) -> Reply:
        self.api_calls += 1
        if fault == "throttle":
            return self._limited(
                recorded(VENDOR, "request_limit", used=str(self.api_limit), limit=str(self.api_limit))
            )
        if fault == "error_500":
            return self._limited(recorded(VENDOR, "server_error"))
        return recorded(VENDOR, "not_json")

    def answer(self, request: Request) -> Reply:
        if self.is_token_request(request):
            return self._token(request)
        if not request.path.startswith("/services/data/v"):
            return Reply(
                404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return recorded(VENDOR, "invalid_session")
        self.api_calls += 1
        path = request.path.split("/", 4)[4]  # after /services/data/vNN.0/
        return self._limited(self._api(request, path))

    def _limited(self, reply: Reply) -> Reply:
        reply.headers["Sforce-Limit-Info"] = f"api-usage={self.api_calls}/{self.api_limit}"
        return reply

    def _token(self, request: Request) -> Reply:
        body = request.form()
        if body.get("grant_type") != "client_credentials":
            return Reply(
                400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
            )
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return recorded(VENDOR, "token_invalid_client")
        token = "00D000000000001!" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        host = request.headers.get("host", "127.0.0.1")
        return recorded(
            VENDOR,
            "token",
            access_token=token,
            signature="c2lnbmF0dXJl",
            instance_url=f"http://{host}",
            issued_at=str(int(self.clock.timestamp() * 1000)),
        )

    # -- the REST API --------------------------------------------------------------------------

    def _api(self, request: Request, path: str) -> Reply:
        parts = path.split("/")
        if parts == ["query"] and request.method == "GET":
            return self._query(request.arg("q") or "")
        if parts[:1] == ["sobjects"] and len(parts) == 2 and request.method == "POST":
            outcome = self._create(parts[1], request.json())
            return Reply(201, outcome) if outcome["success"] else Reply(400, _as_errors(outcome))
        if parts[:1] == ["sobjects"] and len(parts) == 3 and request.method == "PATCH":
            if parts[2] not in self.records.get(parts[1], {}):
                return recorded(VENDOR, "not_found")
            outcome = self._update(parts[1], parts[2], request.json())
            return Reply(204) if outcome["success"] else Reply(400, _as_errors(outcome))
        if parts == ["composite", "sobjects"] and request.method in {"POST", "PATCH"}:
            return self._collection(request)
        return Reply(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

    def _query(self, soql: str) -> Reply:
        try:
            query = parse(soql)
        except (MalformedQueryError, ValueError) as error:
            return recorded(VENDOR, "malformed_query", detail=str(error))
        table = self.records.get(query.sobject)
        if table is None:
            return Reply(
                400,
                [
                    {
                        "message": f"sObject type '{query.sobject}' is not supported.",
                        "errorCode": "INVALID_TYPE",
                    }
                ],
            )
        rows = [row for row in table.values() if query.where(row)]
        for name in reversed(query.order):
            rows.sort(key=lambda row, name=name: str(row.get(name) or ""))
        if query.limit is not None:
            rows = rows[: query.limit]
        records = [
            {
                "attributes": {
                    "type": query.sobject,
                    "url": f"/services/data/v62.0/sobjects/{query.sobject}/{row['Id']}",
                },
                **{name: row.get(name) for name in query.fields},
            }
            for row in rows
        ]
        return Reply(200, {"totalSize": len(records), "done": True, "records": records})

    def _create(self, sobject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        if sobject not in self.records:
            return _failure("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        fields = {key: value for key, value in fields.items() if key != "attributes"}
        if sobject == "Lead":
            missing = [name for name in ("LastName", "Company") if not fields.get(name)]
            if missing:
                return _failure("REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)
            fields.setdefault("IsConverted", False)
        if sobject == "CampaignMember":
            if fields.get("CampaignId") not in self.records["Campaign"]:
                return _failure("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["CampaignId"])
            person_field = "LeadId" if fields.get("LeadId") else "ContactId"
            if (
                fields.get(person_field)
                not in self.records["Lead" if person_field == "LeadId" else "Contact"]
            ):
                return _failure("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [person_field])
            for member in self.members(fields["CampaignId"]):
                if member.get(person_field) == fields[person_field]:
                    return _failure("DUPLICATE_VALUE", "Already a campaign member.")
            fields.setdefault("Status", "Sent")
        record = self.add(sobject, fields)
        return {"id": record["Id"], "success": True, "errors": []}

    def _update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        record = self.records[sobject].get(record_id)
        if record is None:
            return _failure("ENTITY_IS_DELETED", "entity is deleted")
        record.update({key: value for key, value in fields.items() if key not in {"attributes", "Id"}})
        record["SystemModstamp"] = self.tick()
        return {"id": record_id, "success": True, "errors": []}

    def _collection(self, request: Request) -> Reply:
        body = request.json()
        records = body.get("records") or []
        if len(records) > 200:
            return Reply(
                400, [{"message": "Number of records exceeds 200", "errorCode": "EXCEEDED_ID_LIMIT"}]
            )
        results = []
        for record in records:
            if self.row_faults:
                results.append(_failure(self.row_faults.pop(0), "row fault"))
                continue
            sobject = (record.get("attributes") or {}).get("type", "")
            if request.method == "POST":
                results.append(self._create(sobject, record))
            elif record.get("Id") in self.records.get(sobject, {}):
                results.append(self._update(sobject, record["Id"], record))
            else:
                results.append(_failure("ENTITY_IS_DELETED", "entity is deleted"))
        return Reply(200, results)


def _failure(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": fields or []}]}


def _as_errors(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A single-record failure in the REST shape: a list of {message, errorCode, fields}."""
    return [
        {"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]}
        for e in outcome["errors"]
    ]
