"""Imports over HTTP and through the CLI, on the local stack: CSV into a CRM campaign (inline and
through an upload URL) and a Pinpoint export into a static list."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.support.imports import PINPOINT_EXPORT_GZ

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
TOKEN = "e2e-imports-token"


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack(port=0, definitions=HERE / "imports_bundle.yaml", admin_token=TOKEN) as running:
        yield running


def _headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", **extra}


def _get(stack: DevStack, path: str, **params: str) -> dict[str, Any]:
    response = requests.get(f"{stack.url}{path}", headers=_headers(), params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _cli(stack: DevStack, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", *args, "--url", stack.url, "--token", TOKEN],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def _crm(stack: DevStack, email: str) -> dict[str, str]:
    contact = _get(stack, "/v1/admin/contacts", email=email)
    return {item["campaign_id"]: item["status"] for item in contact["crm_campaigns"]}


def test_a_csv_over_http_fills_the_campaign(stack: DevStack) -> None:
    body = b"\xef\xbb\xbfEmail,First_Name,Status\r\nann@example.com,Ann,Registered\r\nnot-an-email,Bob,\r\n"
    response = requests.post(
        f"{stack.url}/v1/admin/campaigns/expo-2026/imports",
        data=gzip.compress(body),
        headers=_headers(**{"Content-Type": "text/csv", "Content-Encoding": "gzip"}),
        timeout=30,
    )
    assert response.status_code == 202, response.text
    import_id = response.json()["import_id"]
    stack.drain(timeout=600)
    view = _get(stack, f"/v1/admin/imports/{import_id}")
    assert (view["status"], view["counts"]["created"], view["counts"]["errors"]) == ("completed", 1, 1)
    assert view["errors"] == [
        {"row": 3, "column": "email", "reason": view["errors"][0]["reason"], "warning": False}
    ]
    assert _crm(stack, "ann@example.com") == {"expo-2026": "Registered"}
    assert _get(stack, "/v1/admin/contacts", email="ann@example.com")["fields"] == {"first_name": "Ann"}


def test_a_large_csv_goes_through_the_upload_url(stack: DevStack) -> None:
    offer = requests.post(
        f"{stack.url}/v1/admin/campaigns/expo-2026/imports",
        json={"upload": True},
        headers=_headers(),
        timeout=30,
    )
    assert offer.status_code == 201, offer.text
    rows = "".join(f"up{n}@example.com,Up{n},Invited\n" for n in range(600))
    put = requests.put(
        offer.json()["upload_url"], data=f"email,first_name,status\n{rows}".encode(), timeout=60
    )
    assert put.status_code == 200, put.text
    started = requests.post(
        f"{stack.url}/v1/admin/imports/{offer.json()['upload_id']}/start", headers=_headers(), timeout=60
    )
    assert started.status_code == 202, started.text
    stack.drain(timeout=600)
    view = _get(stack, f"/v1/admin/imports/{started.json()['import_id']}")
    assert (view["status"], view["rows_total"], view["counts"]["created"]) == ("completed", 600, 600)
    assert view["counts"]["members_added"] == 600
    assert _crm(stack, "up599@example.com") == {"expo-2026": "Invited"}


def test_the_cli_imports_a_csv_and_says_what_happened(stack: DevStack, tmp_path: Path) -> None:
    path = tmp_path / "attendees.csv"
    path.write_text("email,company,status\ncli@example.com,Acme,Attended\nbad,Acme,\n")
    code, out, err = _cli(stack, "import", "csv", "expo-2026", str(path))
    assert code == 4, err  # imported, with a row error
    assert "completed" in out
    assert "contacts created" in out
    assert "row 3, email:" in out
    assert _crm(stack, "cli@example.com") == {"expo-2026": "Attended"}
    code, out, _ = _cli(stack, "import", "csv", "expo-2026", str(path), "--json")
    assert code == 4
    again = json.loads(out)
    assert again["counts"]["created"] == 1  # the same file: the same import, nothing new
    code, _, err = _cli(stack, "import", "csv", "webinar", str(path))
    assert code == 1
    assert "409" in err


def test_the_cli_imports_a_pinpoint_export_into_a_list(stack: DevStack) -> None:
    code, out, err = _cli(
        stack, "import", "pinpoint", str(PINPOINT_EXPORT_GZ), "--list", "pinpoint-users", "--json"
    )
    assert code == 4, err  # three lines are not endpoints
    view = json.loads(out)
    assert (view["counts"]["created"], view["counts"]["skipped"], view["counts"]["errors"]) == (4, 2, 3)
    stack.drain(timeout=600)  # the contacts' activities
    anna = _get(stack, "/v1/admin/contacts", email="anna.schmidt@example.com")
    assert anna["fields"]["time_zone"] == "Europe/Berlin"
    assert anna["lists"] == ["pinpoint-users"]
    members = _get(stack, "/v1/admin/segments/pinpoint-users/members")["members"]
    assert {member["contact_id"] for member in members} >= {anna["id"]}
    assert len(members) == 4
