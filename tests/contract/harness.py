"""One harness per CRM: its stub, a connector pointed at it, and vendor-neutral views of its state.

The contract tests speak only this vocabulary (people, members, statuses, fault names), so the
same test runs against every connector; the vendor-specific tests use ``server.stub`` directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from leadflow.adapters.crm.base import (
    Connector,
    ConnectorConfig,
    ContactRecord,
    Credentials,
    MemberSync,
    TokenCache,
)
from leadflow.adapters.crm.registry import connector_for
from tests.support.crm_stub import StubServer, make_stub


@dataclass
class Harness:
    """A vendor's stub and what a contract test needs to know about it."""

    kind: str
    server: StubServer
    campaign: str
    unknown_campaign: str
    statuses: tuple[str, str]  # (first status, a later responded one)
    tokens: TokenCache
    carries_status: ClassVar[bool] = True
    """False where the CRM's membership has no status (Sugar): ``status_of`` says only ``member``."""

    @property
    def stub(self) -> Any:
        return self.server.stub

    def config(self) -> ConnectorConfig:
        return ConnectorConfig(
            id=f"{self.kind}-test", kind=self.kind, instance_url=self.server.url, options=self.options()
        )

    def options(self) -> dict[str, str]:
        return {}

    def credentials(self) -> Credentials:
        raise NotImplementedError

    def connector(self, *, credentials: Credentials | None = None) -> Connector:
        return connector_for(self.config(), credentials or self.credentials(), token_cache=self.tokens)

    def member(
        self,
        n: int = 1,
        *,
        status: str | None = None,
        campaign: str | None = None,
        previous: str | None = None,
        email: str | None = None,
        change: str | None = None,
    ) -> MemberSync:
        contact = ContactRecord(
            contact_id=f"c{n}",
            email=email or f"person{n}@example.com",
            first_name="Jane",
            last_name=f"Doe{n}",
            company="Acme",
        )
        return MemberSync(
            contact=contact,
            external_campaign_id=campaign or self.campaign,
            status=status or self.statuses[0],
            responded=(status or self.statuses[0]) == self.statuses[1],
            change_id=change or f"chg-{n}-{status}",
            previous_status=previous,
        )

    # vendor-neutral state ---------------------------------------------------------------------
    def people(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def members(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def status_of(self, person_id: str) -> str | None:
        """The membership status the CRM shows for this person in the campaign (None: no member)."""
        raise NotImplementedError

    def shown(self, status: str) -> str:
        """What ``status_of`` shows for a member synced with ``status``."""
        return status if self.carries_status else "member"

    def add_existing_member(self, email: str, status: str) -> str:
        """A person who already is a member (made in the CRM by someone else); returns the person id."""
        raise NotImplementedError


class SalesforceHarness(Harness):
    def credentials(self) -> Credentials:
        from tests.support.crm_stub.salesforce import CLIENT_ID, CLIENT_SECRET

        return Credentials({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})

    def people(self) -> list[dict[str, Any]]:
        return self.stub.state["Lead"] + self.stub.state["Contact"]

    def members(self) -> list[dict[str, Any]]:
        return self.stub.members(self.campaign)

    def status_of(self, person_id: str) -> str | None:
        for member in self.members():
            if person_id in (member.get("LeadId"), member.get("ContactId")):
                return str(member["Status"])
        return None

    def add_existing_member(self, email: str, status: str) -> str:
        lead = self.stub.add(
            "Lead", {"Email": email, "LastName": "Existing", "Company": "Acme", "IsConverted": False}
        )
        self.stub.add("CampaignMember", {"CampaignId": self.campaign, "LeadId": lead["Id"], "Status": status})
        return str(lead["Id"])


class DynamicsHarness(Harness):
    """Dataverse list members have no status: a responded status is a campaign response."""

    def options(self) -> dict[str, str]:
        from tests.support.crm_stub.dynamics import TENANT

        return {"tenant_id": TENANT, "login_url": self.server.url}

    def credentials(self) -> Credentials:
        from tests.support.crm_stub.dynamics import CLIENT_ID, CLIENT_SECRET

        return Credentials({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})

    def people(self) -> list[dict[str, Any]]:
        return list(self.stub.leads.values())

    def members(self) -> list[dict[str, Any]]:
        return [{"leadid": lead} for lead in self.stub.lists[self.campaign]["members"]]

    def status_of(self, person_id: str) -> str | None:
        if person_id not in self.stub.lists[self.campaign]["members"]:
            return None
        responses = [r for r in self.stub.responses if r["lead"] == person_id]
        return responses[-1]["subject"].split(" (Leadflow ")[0] if responses else self.statuses[0]

    def add_existing_member(self, email: str, status: str) -> str:
        lead = self.stub.add_lead({"emailaddress1": email, "lastname": "Existing", "companyname": "Acme"})
        self.stub.lists[self.campaign]["members"][lead["leadid"]] = "member-of-" + lead["leadid"]
        return str(lead["leadid"])


class SugarHarness(Harness):
    """Sugar target-list links have no status: the harness reports ``member`` for any member."""

    carries_status = False

    def credentials(self) -> Credentials:
        from tests.support.crm_stub.sugarcrm import PASSWORD, USERNAME

        return Credentials({"username": USERNAME, "password": PASSWORD})

    def people(self) -> list[dict[str, Any]]:
        return list(self.stub.leads.values())

    def members(self) -> list[dict[str, Any]]:
        return [{"id": lead} for lead in self.stub.lists[self.campaign]["leads"]]

    def status_of(self, person_id: str) -> str | None:
        return "member" if person_id in self.stub.lists[self.campaign]["leads"] else None

    def add_existing_member(self, email: str, status: str) -> str:
        lead = self.stub.add_lead(
            {"last_name": "Existing", "email": [{"email_address": email, "primary_address": True}]}
        )
        self.stub.lists[self.campaign]["leads"].append(lead["id"])
        return str(lead["id"])


HARNESSES: dict[str, type[Harness]] = {
    "salesforce": SalesforceHarness,
    "dynamics": DynamicsHarness,
    "sugarcrm": SugarHarness,
}
SETUP: dict[str, dict[str, Any]] = {
    "salesforce": {
        "campaign": "701000000000001AAA",
        "unknown_campaign": "701000000000999AAA",
        "statuses": ("Sent", "Responded"),
    },
    "dynamics": {
        "campaign": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "unknown_campaign": "3f2504e0-4f89-41d3-9a0c-0305e82c3399",
        "statuses": ("Sent", "Responded"),
    },
    "sugarcrm": {
        "campaign": "a7c1e2d4-5b6f-4a8e-9c0d-1e2f3a4b5c01",
        "unknown_campaign": "a7c1e2d4-5b6f-4a8e-9c0d-1e2f3a4b5c99",
        "statuses": ("Sent", "Responded"),
    },
}


def texts(value: Any) -> list[str]:
    """Every string in a record, however nested (Sugar keeps emails in a list of objects)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    return []


def start(kind: str) -> Iterator[Harness]:
    server = StubServer(make_stub(kind)).start()
    setup = SETUP[kind]
    server.stub.seed({"campaigns": [setup["campaign"]]})
    try:
        yield HARNESSES[kind](kind=kind, server=server, tokens=TokenCache(), **setup)
    finally:
        server.stop()
