"""A nurture flow on the local stack: a form post enrolls, the stack's clock moves three days,
the minute run fires on that clock and the flow's next steps are done. No sleeping: time and
queues move by ``advance`` and ``drain``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN, admin_headers

pytestmark = pytest.mark.e2e

BUNDLE = """
campaigns:
  - {id: e2e-nurture, kind: ma, name: E2E nurture}
forms:
  - id: nurture-signup
    campaign: e2e-nurture
    fields:
      - {name: email, type: email, required: true}
      - {name: consent, type: consent, required: true, text: "Email me"}
    allowed_origins: ["*"]
scoring:
  rules:
    - {id: form, when: {activity: form_submit}, points: 5}
email_templates:
  - {id: hello, subject: Hello, html: "<p>Hello</p>", from: "News <news@nurture-e2e.example.com>"}
flows:
  - id: welcome
    trigger: {form_submitted: nurture-signup}
    steps:
      - {id: hello, send_email: {template: hello}}
      - {id: pause, wait: 2d}
      - {id: warm, update: {add_tags: [nurtured], score: 7}}
"""


@pytest.fixture(scope="module")
def nurture_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    path: Path = tmp_path_factory.mktemp("nurture") / "bundle.yaml"
    path.write_text(BUNDLE)
    with DevStack(port=0, definitions=path, admin_token=TOKEN) as stack:
        # the step's email really goes out through the stack's SES: its sender must be verified
        stack.client("sesv2").create_email_identity(EmailIdentity="nurture-e2e.example.com")
        yield stack


def contact(stack: DevStack, email: str) -> dict:
    response = requests.get(
        f"{stack.url}/v1/admin/contacts", params={"email": email}, headers=admin_headers(), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def enrollment(stack: DevStack, contact_id: str) -> dict:
    item = stack.client("dynamodb").get_item(
        TableName="leadflow-local-ContactsTable",
        Key={"pk": {"S": f"CONTACT#{contact_id}"}, "sk": {"S": "FLOW#welcome"}},
        ConsistentRead=True,
    )["Item"]
    return {"state": item["state"]["S"], "revision": int(item["revision"]["N"])}


def test_a_form_post_enrolls_and_the_minute_run_on_the_stack_clock_moves_the_flow_on(
    nurture_stack: DevStack,
) -> None:
    response = requests.post(
        f"{nurture_stack.url}/v1/forms/nurture-signup/submissions",
        json={"fields": {"email": "flow@example.com", "consent": True}},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    contact_id = response.json()["contact_id"]
    nurture_stack.drain()
    assert enrollment(nurture_stack, contact_id)["state"] == "waiting"
    # the first step's email went out once through the stack's SES, with the flow's ids
    outbox = requests.get(f"{nurture_stack.url}/_local/outbox", params={"format": "json"}, timeout=10)
    assert outbox.status_code == 200, outbox.text
    sent = [message for message in outbox.json() if message["to"] == ["flow@example.com"]]
    assert [(message["flow_id"], message["step_id"], message["contact_id"]) for message in sent] == [
        ("welcome", "hello", contact_id)
    ]
    assert sent[0]["one_click_unsubscribe"] is True
    assert "nurtured" not in contact(nurture_stack, "flow@example.com")["tags"]
    nurture_stack.advance("3d")
    nurture_stack.drain()
    assert enrollment(nurture_stack, contact_id)["state"] == "completed"
    seen = contact(nurture_stack, "flow@example.com")
    assert "nurtured" in seen["tags"]
    assert seen["score"] == 12
