"""The stub as its own process, the way the e2e test runs it next to the local stack."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadflow.adapters.crm.base import ConnectorConfig, ContactRecord, Credentials, MemberSync, TokenCache
from leadflow.adapters.crm.registry import connector_for
from tests.support.crm_stub.salesforce import CLIENT_ID, CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = "701000000000001AAA"


@pytest.fixture
def stub_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.crm_stub", "salesforce", "--port", "0", "--campaign", CAMPAIGN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("salesforce stub on http://127.0.0.1:"), line
        yield line.split(" on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def get_state(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{url}/_stub/state", timeout=5) as response:
        return json.loads(response.read())


def test_a_test_reads_the_campaign_member_from_the_stub_process(stub_url: str) -> None:
    connector = connector_for(
        ConnectorConfig("sfdc", "salesforce", stub_url, "62.0"),
        Credentials({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        token_cache=TokenCache(),
    )
    connector.sync_member(
        MemberSync(ContactRecord("c1", "jane@example.com", last_name="Doe"), CAMPAIGN, "Sent", False, "e1")
    )

    state = get_state(stub_url)["state"]
    [member] = state["CampaignMember"]
    assert (member["CampaignId"], member["Status"], member["Email"]) == (CAMPAIGN, "Sent", "jane@example.com")
    assert [c["Id"] for c in state["Campaign"]] == [CAMPAIGN]


def test_faults_are_injected_over_http(stub_url: str) -> None:
    request = urllib.request.Request(
        f"{stub_url}/_stub/fault", data=json.dumps({"fault": "error_500", "times": 1}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204
    token = urllib.request.Request(
        f"{stub_url}/services/oauth2/token",
        data=f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}".encode(),
        method="POST",
    )
    with urllib.request.urlopen(token, timeout=5) as response:
        access = json.loads(response.read())["access_token"]
    query = urllib.request.Request(
        f"{stub_url}/services/data/v62.0/query?q=SELECT+Id+FROM+Lead",
        headers={"Authorization": f"Bearer {access}"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(query, timeout=5)
    assert caught.value.code == 500
