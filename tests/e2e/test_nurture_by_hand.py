"""On the local stack: a double opt-in form's confirmation email goes out once through the stack's
SES; `leadflow enrollments end|redrive` end and re-drive a contact's enrollment through the admin
API, as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN

pytestmark = pytest.mark.e2e

BUNDLE = """
campaigns:
  - {id: e2e-hand, kind: ma, name: E2E by hand}
forms:
  - id: hand-signup
    campaign: e2e-hand
    fields:
      - {name: email, type: email, required: true}
      - {name: consent, type: consent, required: true, text: "Email me"}
    allowed_origins: ["*"]
  - id: hand-newsletter
    double_opt_in: true
    fields:
      - {name: email, type: email, required: true}
    allowed_origins: ["*"]
email_templates:
  - {id: hello, subject: Hello, html: "<p>Hello</p>", from: "News <news@hand-e2e.example.com>"}
  - id: confirm-subscription
    subject: Please confirm
    html: '<p><a href="{{ confirm_url }}">Yes</a></p>'
    from: "News <news@hand-e2e.example.com>"
flows:
  - id: welcome
    trigger: {form_submitted: hand-signup}
    steps:
      - {id: hello, send_email: {template: hello}}
      - {id: pause, wait: 2d}
      - {id: warm, update: {add_tags: [nurtured]}}
"""


@pytest.fixture(scope="module")
def hand_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    path: Path = tmp_path_factory.mktemp("hand") / "bundle.yaml"
    path.write_text(BUNDLE)
    with DevStack(port=0, definitions=path, admin_token=TOKEN) as stack:
        stack.client("sesv2").create_email_identity(EmailIdentity="hand-e2e.example.com")
        yield stack


def run(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def _submit(stack: DevStack, form: str, fields: dict[str, object]) -> str:
    response = requests.post(f"{stack.url}/v1/forms/{form}/submissions", json={"fields": fields}, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["contact_id"])


def _outbox(stack: DevStack, address: str) -> list[dict]:
    response = requests.get(f"{stack.url}/_local/outbox", params={"format": "json"}, timeout=10)
    assert response.status_code == 200, response.text
    return [message for message in response.json() if message["to"] == [address]]


def test_a_double_opt_in_submission_gets_one_confirmation_email(hand_stack: DevStack) -> None:
    contact_id = _submit(hand_stack, "hand-newsletter", {"email": "doi@example.com"})
    hand_stack.drain()
    hand_stack.drain()
    (sent,) = _outbox(hand_stack, "doi@example.com")
    assert (sent["flow_id"], sent["step_id"], sent["contact_id"]) == (
        "hand-newsletter",
        "confirm",
        contact_id,
    )
    assert "/v1/confirm/" in sent["text"]


def test_the_cli_ends_and_re_drives_an_enrollment(hand_stack: DevStack) -> None:
    auth = ("--url", hand_stack.url, "--token", TOKEN)
    contact_id = _submit(hand_stack, "hand-signup", {"email": "hand@example.com", "consent": True})
    hand_stack.drain()
    code, out, err = run("enrollments", "redrive", contact_id, "welcome", *auth)
    assert code == 0, err
    assert json.loads(out)["step"] == "pause"
    code, out, err = run("enrollments", "end", contact_id, "welcome", *auth)
    assert code == 0, err
    ended = json.loads(out)
    assert (ended["state"], ended["end_reason"]) == ("exited", "ended_by_admin")
    code, _, err = run("enrollments", "end", contact_id, "welcome", *auth)
    assert code == 1
    assert "409 conflict" in err
    code, _, err = run("enrollments", "redrive", "c_nobody", "welcome", *auth)
    assert code == 1
    assert "404 not_found" in err
    # the wait would have ended by now: nothing more happens to an ended enrollment
    hand_stack.advance("3d")
    hand_stack.drain()
    assert len(_outbox(hand_stack, "hand@example.com")) == 1
