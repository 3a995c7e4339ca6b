"""The data subject's rights through the admin handler: export everything, erase everywhere."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain.activities import Activity
from leadflow.services import crm_members
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import json_body
from tests.support.forms import submitted_contact

EMAIL = "Erin.Erased@example.com"


def _process(aws) -> None:
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])


def _visit(anonymous_id: str, url: str, n: int) -> None:
    activity_queue.send(
        Activity(
            activity_id=f"act_visit_{n}",
            type="page_view",
            occurred_at=clock.now(),
            anonymous_id=anonymous_id,
            properties={"url": url},
        )
    )


@pytest.fixture
def person(aws, apply_bundle, capture) -> str:
    """A contact with a visitor history, a score, tags, a list, an MA and a CRM campaign."""
    aws.tap = queues.bus_tap(aws.buses["EventBus"])
    apply_bundle(scoring_bundle())
    _visit("anon-erin", "https://x.com/pricing", 1)
    _process(aws)
    fields = {"email": EMAIL, "first_name": "Erin", "role": "Engineer", "consent": True}
    contact_id = submitted_contact(capture, fields, context={"anonymous_id": "anon-erin"})
    _process(aws)
    crm_members.change_membership("crm-inbound-mql", contact_id, "Contacted", source="manual", mode="set")
    _process(aws)
    return contact_id


def _everything(aws) -> list[str]:
    """Every item of both tables, as text (a test may scan; the product never does)."""
    client = boto3.client("dynamodb")
    texts = []
    for table in (aws.tables["ContactsTable"], aws.tables["CampaignsTable"]):
        for page in client.get_paginator("scan").paginate(TableName=table):
            texts += [json.dumps(item, default=str) for item in page["Items"]]
    return texts


def test_the_export_holds_everything_stored_about_the_contact(admin, person):
    reply = admin(
        "GET", f"/v1/admin/contacts/{person}/export", iam=True, path_parameters={"contact_id": person}
    )
    assert reply["statusCode"] == 200, reply["body"]
    assert "attachment" in reply["headers"]["Content-Disposition"]
    exported = json_body(reply)
    assert exported["profile"]["email"] == EMAIL
    types = sorted(activity["type"] for activity in exported["records"]["activities"])
    assert types == ["crm_status_changed", "form_submit", "page_view"]
    assert {row["rule_id"] for row in exported["records"]["score_ledger"]} >= {"form", "pricing"}
    assert {row["campaign_id"] for row in exported["campaign_memberships"]} == {
        "webinar-q3",
        "crm-inbound-mql",
    }
    assert {row["list_id"] for row in exported["list_memberships"]} == {"webinar-registrants"}
    assert [row["to"] for row in exported["membership_history"]] == ["Contacted"]
    # kept where the visitor's browser left it, besides the copy replayed onto the contact
    assert [(a["type"], a["anonymous_id"]) for a in exported["visitor_activity"]] == [
        ("page_view", "anon-erin")
    ]


def test_an_erasure_leaves_nothing_but_a_hash_of_the_address(aws, admin, person):
    before = _everything(aws)
    assert any(person in text for text in before)
    reply = admin("DELETE", f"/v1/admin/contacts/{person}", iam=True, path_parameters={"contact_id": person})
    assert reply["statusCode"] == 204, reply["body"]
    after = _everything(aws)
    leftovers = [text for text in after if EMAIL.lower() in text.lower() or "anon-erin" in text]
    assert leftovers == []
    # only the 30-day record that the id was erased names it (the id is random: no personal data)
    assert [text for text in after if person in text] == [
        text for text in after if f"ERASEDID#{person}" in text
    ]
    assert contacts_store.is_erased_address(EMAIL.lower())
    missing = admin("GET", f"/v1/admin/contacts/{person}", iam=True, path_parameters={"contact_id": person})
    assert missing["statusCode"] == 404
    by_email = admin("GET", "/v1/admin/contacts", iam=True, query={"email": EMAIL})
    assert by_email["statusCode"] == 404
    erased = [e for e in queues.read_all(aws.tap) if e["detail-type"] == "ContactErased"]
    assert [e["detail"]["contact_id"] for e in erased] == [person]


def test_erasing_again_finishes_an_interrupted_erasure_and_announces_the_same_event(aws, admin, person):
    contact = contacts_store.get_contact(person, consistent=True)
    assert contact is not None
    dynamo.transact_write(contacts_store.erasure_items(contact, clock.now()))  # then the Lambda died
    assert any(person in text and "ACT#" in text for text in _everything(aws))
    reply = admin("DELETE", f"/v1/admin/contacts/{person}", iam=True, path_parameters={"contact_id": person})
    assert reply["statusCode"] == 204, reply["body"]
    again = admin("DELETE", f"/v1/admin/contacts/{person}", iam=True, path_parameters={"contact_id": person})
    assert again["statusCode"] == 204
    assert [text for text in _everything(aws) if person in text and "ERASEDID#" not in text] == []
    ids = {e["detail"]["event_id"] for e in queues.read_all(aws.tap) if e["detail-type"] == "ContactErased"}
    assert len(ids) == 1


def test_activity_arriving_for_an_erased_contact_recreates_nothing(aws, admin, person):
    admin("DELETE", f"/v1/admin/contacts/{person}", iam=True, path_parameters={"contact_id": person})
    activity_queue.send(
        Activity(
            activity_id="act_late",
            type="email_open",
            occurred_at=clock.now(),
            contact_id=person,
        )
    )
    _process(aws)
    assert [text for text in _everything(aws) if person in text and "ERASEDID#" not in text] == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_unknown_contact_is_404(admin, aws, apply_bundle, method: str):
    apply_bundle(scoring_bundle())
    path = "/v1/admin/contacts/ct_nobody" + ("/export" if method == "GET" else "")
    reply: dict[str, Any] = admin(method, path, iam=True, path_parameters={"contact_id": "ct_nobody"})
    assert reply["statusCode"] == 404
    assert json_body(reply)["error"]["code"] == "not_found"
