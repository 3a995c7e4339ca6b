"""The `leadflow` command's admin calls against the local stack, as a marketer runs them."""

from __future__ import annotations

import json
import socket
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
    # The stack runs the e2e bundle; the demo leaves out its campaigns and its form
    auth = ("--url", leadflow_stack.url, "--token", leadflow_stack.admin_token)
    code, out, _ = run("apply", str(DEMO), "--dry-run", *auth)
    assert code == 0
    assert "would apply" in out
    assert "It would remove 3 live definition(s):" in out
    assert "  campaign  e2e-webinar\n  campaign  crm-e2e\n  form      e2e-signup\n" in out
    assert "Applying it needs --allow-removals." in out
    code, out, _ = run("apply", str(DEMO), "--dry-run", "--json", *auth)
    assert code == 0
    assert json.loads(out)["removals"] == {"campaigns": ["e2e-webinar", "crm-e2e"], "forms": ["e2e-signup"]}

    # Applying it unconfirmed is refused with its own exit code, and the form still works
    code, out, err = run("apply", str(DEMO), *auth)
    assert code == 3, err
    assert f"Refused: applying {DEMO} would remove 3 live definition(s):" in err
    assert "  form      e2e-signup" in err
    assert "--allow-removals" in err
    assert (
        requests.get(
            f"{leadflow_stack.url}/v1/admin/definitions", headers=_bearer(leadflow_stack), timeout=10
        ).json()["version"]
        == 1
    )

    # For scripts, --json prints the API's error as it came
    code, out, _ = run("apply", str(DEMO), "--json", *auth)
    assert code == 3
    assert json.loads(out)["error"]["removals"] == {
        "campaigns": ["e2e-webinar", "crm-e2e"],
        "forms": ["e2e-signup"],
    }

    code, out, _ = run("apply", str(DEMO), "--allow-removals", *auth)
    assert code == 0
    assert "applied as version 2" in out
    assert "It removed 3 live definition(s):" in out

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


def _bearer(stack: DevStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.admin_token}"}


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


def test_an_unreachable_api_is_a_message_not_a_traceback(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        code, out, err = run("apply", str(DEMO), "--url", f"http://127.0.0.1:{port}")
    assert code == 1
    assert f"unreachable: cannot reach http://127.0.0.1:{port}" in err
    assert "Traceback" not in err
    code, out, _ = run("apply", str(DEMO), "--json", "--url", f"http://127.0.0.1:{port}")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "unreachable"
