"""A person's data through the `leadflow` command against the local stack: export it, then erase it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e


def run(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout, done.stderr


def test_export_then_erase_a_contact_from_the_terminal(leadflow_stack: DevStack, tmp_path: Path):
    auth = ("--url", leadflow_stack.url, "--token", leadflow_stack.admin_token)
    posted = requests.post(
        f"{leadflow_stack.url}/v1/forms/e2e-signup/submissions",
        json={"fields": {"email": "paula.private@example.com", "consent": True}},
        timeout=10,
    )
    assert posted.status_code == 202, posted.text
    contact_id = posted.json()["contact_id"]
    leadflow_stack.drain()

    out_file = tmp_path / "paula.json"
    code, out, err = run("contacts", "export", contact_id, "--out", str(out_file), *auth)
    assert code == 0, err
    assert f"Wrote contact {contact_id} to {out_file}" in out
    exported = json.loads(out_file.read_text())
    assert exported["profile"]["email"] == "paula.private@example.com"
    assert {row["campaign_id"] for row in exported["campaign_memberships"]} == {"e2e-webinar", "crm-e2e"}

    # erasing is never done by accident from a script
    code, _, err = run("contacts", "erase", contact_id, *auth)
    assert code == 2
    assert "--yes" in err
    code, out, err = run("contacts", "erase", contact_id, "--yes", *auth)
    assert code == 0, err
    assert f"Erased contact {contact_id}" in out

    gone = requests.get(
        f"{leadflow_stack.url}/v1/admin/contacts",
        params={"email": "paula.private@example.com"},
        headers=admin_headers(),
        timeout=10,
    )
    assert gone.status_code == 404
    code, _, err = run("contacts", "export", contact_id, *auth)
    assert code == 3, err
