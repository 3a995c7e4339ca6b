"""The `leadflow` command's admin calls against the local stack, as a marketer runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.support.moto_stack import ROOT

pytestmark = pytest.mark.e2e

DEMO = ROOT / "examples" / "demo.yaml"


def run(*args: str) -> tuple[int, str, str]:
    """The command in its own process, as a person runs it (the stack logs in this one)."""
    done = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_apply_dry_run_then_look_a_contact_up(leadflow_stack: DevStack):
    auth = ("--url", leadflow_stack.url, "--token", leadflow_stack.admin_token)
    code, out, _ = run("apply", str(DEMO), "--dry-run", *auth)
    assert code == 0
    assert "would apply" in out
    code, out, _ = run("apply", str(DEMO), *auth)
    assert code == 0
    assert "applied as version" in out

    response = requests.post(
        f"{leadflow_stack.url}/v1/forms/newsletter/submissions",
        json={"fields": {"email": "cli@example.com", "consent": True}},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    leadflow_stack.drain()

    code, out, _ = run("contacts", "get", "cli@example.com", *auth)
    assert code == 0
    contact = json.loads(out)
    assert contact["email"] == "cli@example.com"
    assert contact["status"] == "pending"  # the newsletter form is double opt-in
    code, out, _ = run("contacts", "score", contact["id"], *auth)
    assert code == 0
    assert json.loads(out)["score"] == contact["score"]


def test_errors_are_printed_not_raised(leadflow_stack: DevStack, tmp_path):
    auth = ("--url", leadflow_stack.url, "--token", leadflow_stack.admin_token)
    code, _, err = run("contacts", "get", "nobody@example.com", *auth)
    assert code == 1
    assert "404 not_found" in err
    code, _, err = run("contacts", "get", "x@example.com", "--url", leadflow_stack.url, "--token", "wrong")
    assert code == 1
    assert "403 forbidden" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("forms:\n  - id: f\n    campaign: nowhere\n    fields: []\n")
    code, _, err = run("apply", str(broken), *auth)
    assert code == 1
    assert "forms[0]" in err
    code, _, err = run("validate", str(broken))
    assert code == 1
    assert "forms[0]" in err
