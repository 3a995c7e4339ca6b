"""Sync rules on the local stack: a form post makes the rule's CRM membership and the connected
mirror, the CRM status it reaches puts the contact in a list, and a manual CRM change acts on the
MA side without ever touching the contact's MA campaign. No sleeping: queues move by ``drain``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN, admin_headers

pytestmark = pytest.mark.e2e

BUNDLE = """
campaigns:
  - {id: e2e-webinar, kind: ma, name: E2E webinar, connected_crm_campaign: crm-e2e-mirror}
  - {id: e2e-ebook, kind: ma, name: E2E ebook}
  - id: crm-e2e
    kind: crm
    name: E2E CRM webinar
    status: active
    member_statuses: [{name: Invited, default: true}, {name: Registered}, {name: Attended, responded: true}]
  - {id: crm-e2e-mirror, kind: crm, name: E2E mirror, status: active}
forms:
  - id: e2e-webinar-signup
    campaign: e2e-webinar
    fields:
      - {name: email, type: email, required: true}
    allowed_origins: ["*"]
  - id: e2e-ebook
    campaign: e2e-ebook
    fields:
      - {name: email, type: email, required: true}
    allowed_origins: ["*"]
lists:
  - {id: e2e-registrants, kind: static}
scoring:
  rules:
    - {id: form, when: {activity: form_submit}, points: 5}
sync_rules:
  - id: signup-to-crm
    direction: ma_to_crm
    when: {ma_campaign: e2e-webinar, score_at_least: 5}
    then: {add_to_crm_campaign: crm-e2e, status: Registered}
  - id: registered-to-list
    direction: crm_to_ma
    when: {crm_campaign: crm-e2e, status: Registered}
    then: {add_to_list: e2e-registrants}
  - id: attended-tag
    direction: crm_to_ma
    when: {crm_campaign: crm-e2e, status: Attended}
    then: {add_tags: [attended]}
"""


@pytest.fixture(scope="module")
def sync_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    path: Path = tmp_path_factory.mktemp("sync") / "bundle.yaml"
    path.write_text(BUNDLE)
    with DevStack(port=0, definitions=path, admin_token=TOKEN) as stack:
        yield stack


def post(stack: DevStack, form: str, email: str) -> str:
    response = requests.post(
        f"{stack.url}/v1/forms/{form}/submissions", json={"fields": {"email": email}}, timeout=10
    )
    assert response.status_code == 202, response.text
    return response.json()["contact_id"]


def contact(stack: DevStack, email: str) -> dict[str, Any]:
    response = requests.get(
        f"{stack.url}/v1/admin/contacts", params={"email": email}, headers=admin_headers(), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def crm(view: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {m["campaign_id"]: (m["status"], m["source"]) for m in view["crm_campaigns"]}


def test_a_form_post_makes_the_rule_membership_the_mirror_and_the_list(sync_stack: DevStack) -> None:
    post(sync_stack, "e2e-webinar-signup", "rule@example.com")
    sync_stack.drain()
    view = contact(sync_stack, "rule@example.com")
    assert crm(view) == {"crm-e2e": ("Registered", "rule"), "crm-e2e-mirror": ("Sent", "connected")}
    assert "e2e-registrants" in view["lists"]
    assert view["ma_campaign_id"] == "e2e-webinar"


def test_a_manual_crm_change_acts_on_the_ma_side_but_never_on_the_ma_campaign(sync_stack: DevStack) -> None:
    from leadflow.services import crm_members

    contact_id = post(sync_stack, "e2e-ebook", "manual@example.com")
    sync_stack.drain()
    # the admin's change, through the membership service the admin route uses, on the stack's AWS
    crm_members.change_membership("crm-e2e", contact_id, "Attended", source="manual", mode="set")
    sync_stack.drain()
    view = contact(sync_stack, "manual@example.com")
    assert view["ma_campaign_id"] == "e2e-ebook"  # unchanged: MA campaigns are joined by behaviour
    assert crm(view) == {"crm-e2e": ("Attended", "manual")}  # and no mirror back into e2e-webinar's
    assert "attended" in view["tags"]
    assert "e2e-registrants" in view["lists"]  # Attended is past Registered in the campaign's order
