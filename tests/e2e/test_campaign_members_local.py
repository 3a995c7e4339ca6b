"""A campaign's members over HTTP on the local stack, and through ``leadflow members``, as a marketer
runs them (examples/demo.yaml: CRM campaign crm-2026-events, MA campaign website-inbound)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e

EVENTS = "crm-2026-events"  # statuses Sent (default), Responded (responded)


def _submit(stack: DevStack, http: requests.Session, email: str) -> str:
    reply = http.post(
        f"{stack.url}/v1/forms/contact-us/submissions", json={"fields": {"email": email}}, timeout=10
    )
    assert reply.status_code == 202, reply.text
    stack.drain()
    return str(reply.json()["contact_id"])


def _run(stack: DevStack, *args: str) -> tuple[int, str, str]:
    """The command in its own process, as a person runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", *args, "--url", stack.url, "--token", stack.admin_token],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_an_admin_adds_moves_lists_and_removes_a_member_over_http(
    demo_stack: DevStack, http: requests.Session
):
    contact_id = _submit(demo_stack, http, "http-member@example.com")
    base = f"{demo_stack.url}/v1/admin/campaigns/{EVENTS}"
    member = f"{base}/members/{contact_id}"

    added = http.put(member, json={}, headers=admin_headers(), timeout=10)
    assert added.status_code == 201, added.text
    assert (added.json()["status"], added.json()["source"]) == ("Sent", "manual")
    replay = http.put(member, json={}, headers=admin_headers(), timeout=10)
    assert (replay.status_code, replay.json()["changed"]) == (200, False)
    moved = http.put(member, json={"status": "Responded"}, headers=admin_headers(), timeout=10)
    assert moved.status_code == 200
    assert moved.json()["responded"] is True
    unknown = http.put(member, json={"status": "Attended"}, headers=admin_headers(), timeout=10)
    assert unknown.status_code == 422
    assert "status" in unknown.json()["error"]["fields"]
    ma = http.put(
        f"{demo_stack.url}/v1/admin/campaigns/website-inbound/members/{contact_id}",
        json={},
        headers=admin_headers(),
        timeout=10,
    )
    assert ma.status_code == 409
    demo_stack.drain()  # the processor applies the membership activities

    page = http.get(f"{base}/members", params={"status": "Responded"}, headers=admin_headers(), timeout=10)
    assert page.status_code == 200
    assert [m["contact_id"] for m in page.json()["members"]] == [contact_id]
    view = http.get(
        f"{demo_stack.url}/v1/admin/contacts/{contact_id}", headers=admin_headers(), timeout=10
    ).json()
    assert view["ma_campaign_id"] == "website-inbound"
    assert {c["campaign_id"]: c["status"] for c in view["crm_campaigns"]}[EVENTS] == "Responded"

    assert http.delete(member, headers=admin_headers(), timeout=10).status_code == 204
    assert http.delete(member, headers=admin_headers(), timeout=10).status_code == 404
    history = http.get(f"{base}/history", headers=admin_headers(), timeout=10).json()
    assert [(c["from"], c["to"]) for c in history["changes"] if c["contact_id"] == contact_id] == [
        (None, "Sent"),
        ("Sent", "Responded"),
        ("Responded", None),
    ]
    ma_page = http.get(
        f"{demo_stack.url}/v1/admin/campaigns/website-inbound/members", headers=admin_headers(), timeout=10
    ).json()
    assert contact_id in [m["contact_id"] for m in ma_page["members"]]  # still in its MA campaign


def test_the_members_commands(demo_stack: DevStack, http: requests.Session):
    email = "cli-member@example.com"
    contact_id = _submit(demo_stack, http, email)

    code, out, err = _run(demo_stack, "members", "add", EVENTS, email)
    assert code == 0, err
    assert out == f"added {contact_id} to {EVENTS} as Sent\n"
    code, out, _ = _run(demo_stack, "campaigns", "add", EVENTS, contact_id, "--status", "Responded")
    assert code == 0
    assert out == f"{contact_id} is now Responded in {EVENTS}\n"
    code, out, _ = _run(demo_stack, "members", "add", EVENTS, contact_id, "--status", "Responded")
    assert out == f"{contact_id} was already Responded in {EVENTS}\n"

    code, out, _ = _run(demo_stack, "members", "list", EVENTS, "--status", "Responded")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["CONTACT", "STATUS", "RESPONDED", "SOURCE", "JOINED", "UPDATED"]
    assert [row.split()[:2] for row in rows if row.startswith(contact_id)] == [[contact_id, "Responded"]]
    code, out, _ = _run(demo_stack, "campaigns", "members", EVENTS, "--json", "--all", "--limit", "1")
    assert code == 0
    listed = json.loads(out)
    assert listed["cursor"] is None
    assert contact_id in [m["contact_id"] for m in listed["members"]]

    # refused: exit 1 with the API's reason; not found: exit 3
    code, _, err = _run(demo_stack, "members", "add", EVENTS, contact_id, "--status", "Bogus")
    assert code == 1
    assert "status:" in err
    code, _, err = _run(demo_stack, "members", "add", "website-inbound", contact_id)
    assert code == 1
    assert "409 conflict" in err
    assert _run(demo_stack, "members", "add", "crm-nope", contact_id)[0] == 3
    assert _run(demo_stack, "members", "add", EVENTS, "nobody@example.com")[0] == 3
    assert _run(demo_stack, "members", "list", EVENTS, "--cursor", "junk")[0] == 1

    code, out, _ = _run(demo_stack, "members", "remove", EVENTS, email)
    assert (code, out) == (0, f"removed {contact_id} from {EVENTS} (its history stays)\n")
    assert _run(demo_stack, "members", "remove", EVENTS, email)[0] == 3
    code, out, _ = _run(demo_stack, "members", "history", EVENTS, "--all")
    assert code == 0
    mine = [line.split() for line in out.splitlines() if contact_id in line]
    assert [(row[2], row[3], row[4]) for row in mine] == [
        ("(added)", "Sent", "manual"),
        ("Sent", "Responded", "manual"),
        ("Responded", "(removed)", "manual"),
    ]
