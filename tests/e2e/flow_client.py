"""What a marketer's script does with a running stack, over HTTP only: apply a bundle through the
admin API, post forms and tracking events, move the stack's clock (``POST /_local/clock``), let the
queues settle (``POST /_local/drain``) and read the outbox and the admin contact view.

Shared by the flow-template and outbox-journey tests, so both see the stack as a user does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import yaml

from leadflow.clock import parse_iso

ROOT = Path(__file__).resolve().parents[2]
FLOW_TEMPLATES = ROOT / "examples" / "flow-templates"


def template_bundle(name: str) -> dict[str, Any]:
    """A ready-made flow's bundle as a marketer copies it from examples/flow-templates/."""
    loaded = yaml.safe_load((FLOW_TEMPLATES / f"{name}.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@dataclass
class FlowClient:
    url: str
    token: str
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def apply(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """Make ``bundle`` the active one; what an earlier test applied may be removed."""
        reply = self.http.put(
            f"{self.url}/v1/admin/definitions",
            params={"allow_removals": "true"},
            data=yaml.safe_dump(bundle, sort_keys=False),
            headers={**self._admin, "Content-Type": "application/yaml"},
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def submit(self, form_id: str, **fields: Any) -> str:
        """A JSON form post from the site's own server; the new or returning contact's id."""
        reply = self.http.post(
            f"{self.url}/v1/forms/{form_id}/submissions", json={"fields": fields}, timeout=30
        )
        assert reply.status_code == 202, reply.text
        contact_id = reply.json()["contact_id"]
        assert isinstance(contact_id, str)
        return contact_id

    def track(self, write_key: str, email: str, name: str, **properties: Any) -> None:
        """One custom event from the shop's server, named by the shopper's email."""
        event = {"type": "custom", "email": email, "properties": {"name": name, **properties}}
        reply = self.http.post(
            f"{self.url}/v1/events", json={"write_key": write_key, "events": [event]}, timeout=30
        )
        assert reply.status_code in (200, 202), reply.text
        assert reply.json().get("accepted", 1) == 1, reply.text

    def now(self) -> datetime:
        reply = self.http.get(f"{self.url}/_local/clock", timeout=10)
        assert reply.status_code == 200, reply.text
        return parse_iso(reply.json()["now"])

    def advance(self, amount: str | timedelta) -> None:
        """Move the stack's clock; the reply comes once everything that fell due has run."""
        if isinstance(amount, timedelta):
            amount = f"{int(amount.total_seconds())}s"
        reply = self.http.post(f"{self.url}/_local/clock", json={"advance": amount}, timeout=600)
        assert reply.status_code == 200, reply.text
        self.drain()

    def advance_to(self, moment: datetime) -> None:
        """Advance the clock to ``moment`` (it never goes back)."""
        delta = moment - self.now()
        assert delta > timedelta(0), f"{moment} is already past"
        self.advance(delta)

    def drain(self) -> None:
        reply = self.http.post(f"{self.url}/_local/drain", timeout=600)
        assert reply.status_code == 200, reply.text

    def outbox(self, **filters: str) -> list[dict[str, Any]]:
        """The outbox as JSON, oldest first (the route lists newest first)."""
        reply = self.http.get(f"{self.url}/_local/outbox", params={"format": "json", **filters}, timeout=30)
        assert reply.status_code == 200, reply.text
        return list(reversed(reply.json()))

    def subjects(self, email: str) -> list[tuple[str | None, str | None, str]]:
        """(flow, step, subject) of every email sent to ``email``, oldest first."""
        return [(mail["flow_id"], mail["step_id"], mail["subject"]) for mail in self.outbox(to=email)]

    def contact(self, email: str) -> dict[str, Any]:
        found = self.http.get(
            f"{self.url}/v1/admin/contacts", params={"email": email}, headers=self._admin, timeout=30
        )
        assert found.status_code == 200, found.text
        view = self.http.get(
            f"{self.url}/v1/admin/contacts/{found.json()['id']}", headers=self._admin, timeout=30
        )
        assert view.status_code == 200, view.text
        contact = view.json()
        assert isinstance(contact, dict)
        return contact

    def set_member_status(self, campaign_id: str, email: str, status: str) -> dict[str, Any]:
        """A sales rep sets ``email``'s status on a CRM campaign (the admin member route)."""
        contact_id = self.contact(email)["id"]
        reply = self.http.put(
            f"{self.url}/v1/admin/campaigns/{campaign_id}/members/{contact_id}",
            json={"status": status},
            headers=self._admin,
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        membership = reply.json()
        assert isinstance(membership, dict)
        return membership

    def enrollment(self, email: str, flow_id: str) -> dict[str, Any]:
        """The contact's enrollment in ``flow_id`` as the admin contact view shows it."""
        enrollments = [item for item in self.contact(email)["enrollments"] if item["flow_id"] == flow_id]
        assert len(enrollments) == 1, enrollments
        return enrollments[0]

    def path(self, email: str, flow_id: str) -> list[tuple[str, str]]:
        """(step, outcome) of every step the enrollment ran, oldest first."""
        return [(entry["step_id"], entry["outcome"]) for entry in self.enrollment(email, flow_id)["path"]]
