"""A Salesforce connector end to end on the local stack, both directions, against the Salesforce
stub running as its own process on loopback: a form post qualifies the lead, the qualify action
adds it to a CRM campaign, the bus rule and the sync queue bring it to the stub's CampaignMember;
then sales change the status in Salesforce and the scheduled poll (on the stack's clock) brings
it back as the contact's membership status. No sleeping: ``drain`` and ``advance``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN, admin_headers
from tests.support.crm_stub.salesforce import CLIENT_ID, CLIENT_SECRET
from tests.support.moto_stack import ROOT

pytestmark = pytest.mark.e2e

CAMPAIGN = "701000000000001AAA"

BUNDLE = """
connectors:
  - {{id: sfdc, kind: salesforce, instance_url: "{url}", api_version: "62.0"}}
campaigns:
  - {{id: e2e-crm-webinar, kind: ma, name: E2E webinar}}
  - id: crm-e2e-mql
    kind: crm
    name: E2E MQLs
    status: active
    member_statuses:
      - {{name: Sent, default: true}}
      - {{name: Contacted, responded: true}}
    external: {{connector: sfdc, id: {campaign}}}
forms:
  - id: crm-signup
    campaign: e2e-crm-webinar
    fields:
      - {{name: email, type: email, required: true}}
      - {{name: last_name, type: text}}
      - {{name: company, type: text}}
    allowed_origins: ["*"]
scoring:
  rules:
    - {{id: form, when: {{activity: form_submit}}, points: 10}}
  qualify:
    mql_score: 10
    actions:
      - {{add_to_crm_campaign: {{campaign: crm-e2e-mql}}}}
"""


@dataclass
class Stub:
    url: str
    process: subprocess.Popen[str]

    def state(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_stub/state", timeout=5).json()["state"]

    def set_status(self, member_id: str, status: str) -> None:
        """Sales change a member's status in Salesforce (through its REST API, as any client would)."""
        token = requests.post(
            f"{self.url}/services/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            timeout=5,
        ).json()["access_token"]
        response = requests.patch(
            f"{self.url}/services/data/v62.0/sobjects/CampaignMember/{member_id}",
            json={"Status": status},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert response.status_code == 204, response.text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.crm_stub",
            "salesforce",
            "--port",
            str(port),
            "--campaign",
            CAMPAIGN,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "salesforce stub on http://127.0.0.1:N", once it listens
    assert "stub on" in line, line
    try:
        yield Stub(url=f"http://127.0.0.1:{port}", process=process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def crm_stack(tmp_path_factory: pytest.TempPathFactory, stub: Stub) -> Iterator[DevStack]:
    path: Path = tmp_path_factory.mktemp("crm") / "bundle.yaml"
    path.write_text(BUNDLE.format(url=stub.url, campaign=CAMPAIGN))
    with DevStack(port=0, definitions=path, admin_token=TOKEN) as stack:
        yield stack


def _contact(stack: DevStack, email: str) -> dict[str, Any]:
    response = requests.get(
        f"{stack.url}/v1/admin/contacts", params={"email": email}, headers=admin_headers(), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_form_post_reaches_salesforce_and_a_status_sales_set_there_comes_back(
    crm_stack: DevStack, stub: Stub
) -> None:
    # credentials are stored (204) and never shown
    put = requests.put(
        f"{crm_stack.url}/v1/admin/connectors/sfdc/credentials",
        data=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        headers={**admin_headers(), "Content-Type": "application/json"},
        timeout=10,
    )
    assert put.status_code == 204, put.text
    response = requests.post(
        f"{crm_stack.url}/v1/forms/crm-signup/submissions",
        json={"fields": {"email": "lee@example.com", "last_name": "Lee", "company": "Globex"}},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    crm_stack.drain()

    state = stub.state()
    [lead] = state["Lead"]
    assert (lead["Email"], lead["LastName"], lead["Company"]) == ("lee@example.com", "Lee", "Globex")
    [member] = state["CampaignMember"]
    assert (member["CampaignId"], member["LeadId"], member["Status"]) == (CAMPAIGN, lead["Id"], "Sent")
    contact = _contact(crm_stack, "lee@example.com")
    [sync] = contact["crm_sync"]
    assert (sync["state"], sync["external_id"]) == ("synced", lead["Id"])
    status = requests.get(f"{crm_stack.url}/v1/admin/connectors/sfdc", headers=admin_headers(), timeout=10)
    assert status.json()["configured"] is True
    assert CLIENT_SECRET not in status.text

    # sales move the member on in Salesforce; the next poll (every 5 minutes on the stack clock) reads it
    stub.set_status(member["Id"], "Contacted")
    crm_stack.advance("6m")
    crm_stack.drain()
    contact = _contact(crm_stack, "lee@example.com")
    assert [(m["campaign_id"], m["status"]) for m in contact["crm_campaigns"]] == [
        ("crm-e2e-mql", "Contacted")
    ]
    assert any(
        a["type"] == "crm_status_changed" and a["properties"]["source"] == "crm"
        for a in contact["activities"]
    )
    # and it is not sent back: Salesforce still has one member, with the status sales gave it
    assert [m["Status"] for m in stub.state()["CampaignMember"]] == ["Contacted"]


def test_the_cli_shows_the_connector_and_replays_nothing_when_nothing_failed(crm_stack: DevStack) -> None:
    auth = ("--url", crm_stack.url, "--token", crm_stack.admin_token)
    show = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", "connectors", "show", "sfdc", *auth],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["kind"] == "salesforce"
    replay = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", "connectors", "replay", "sfdc", *auth],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.startswith("0 dead letter(s) of sfdc")
    missing = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", "connectors", "show", "nope", *auth],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert "no connector nope" in missing.stderr
