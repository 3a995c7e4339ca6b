"""The SES events function through its real handler on moto: suppression, activities scored by the
process function, domain events, redelivery, precedence, ignored kinds and malformed events.
Every events/ses-*.json sample runs here (test_sample_events.py leaves them to this file)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadflow.observability import RedactedError
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import LambdaContext, json_body
from tests.support.forms import submitted_contact
from tests.support.moto_stack import ROOT

EVENTS = ROOT / "events"
SAMPLE_CONTACT = "ct_sample0001"
EMAIL = "jane.doe@example.com"

#: Each sample, the contact status it leaves, the activity it records and the domain event.
SAMPLES: dict[str, tuple[str, str | None, str | None]] = {
    "ses-bounce-permanent": ("bounced", "email_bounced", "EmailBounced"),
    "ses-bounce-transient": ("subscribed", "email_bounced", "EmailBounced"),
    "ses-complaint": ("complained", "email_complained", "EmailComplained"),
    "ses-delivery": ("subscribed", "email_sent", "EmailDelivered"),
    "ses-delivery-delay": ("subscribed", None, None),
}


def sample(name: str, contact_id: str = SAMPLE_CONTACT) -> dict[str, Any]:
    """A sample with the tags and headers naming ``contact_id`` (the id capture gave)."""
    text = (EVENTS / f"{name}.json").read_text().replace(SAMPLE_CONTACT, contact_id)
    return json.loads(text)


@pytest.fixture
def world(aws, apply_bundle, capture, admin):
    bundle = scoring_bundle()
    bundle["scoring"]["rules"] += [
        {"id": "bounced", "when": {"activity": "email_bounced"}, "points": -20},
        {"id": "complained", "when": {"activity": "email_complained"}, "points": -50},
    ]
    apply_bundle(bundle)
    tap = queues.bus_tap(aws.buses["EventBus"])
    handler = functions.load("ses_events").lambda_handler
    process = functions.load("process").lambda_handler

    class World:
        stack = aws

        def submit(self, email: str = EMAIL) -> str:
            fields = {"email": email, "first_name": "Jane", "role": "Engineer", "consent": True}
            contact_id = submitted_contact(capture, fields)
            self.process()
            return contact_id

        def ses(self, event: dict[str, Any]) -> dict[str, Any]:
            return handler(event, LambdaContext(function_name="ses_events"))

        def process(self) -> int:
            return queues.drain(process, aws.queues["ActivityQueue"])

        def contact(self, contact_id: str) -> dict[str, Any]:
            return json_body(
                admin(
                    "GET",
                    f"/v1/admin/contacts/{contact_id}",
                    iam=True,
                    path_parameters={"contact_id": contact_id},
                )
            )

        def events(self, kind: str | None = None) -> list[dict[str, Any]]:
            found = queues.read_all(tap)
            return [event for event in found if kind is None or event["detail-type"] == kind]

    return World()


def test_every_ses_sample_is_run_here():
    assert {path.stem for path in EVENTS.glob("ses-*.json")} == set(SAMPLES)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_sample_does_what_docs_email_events_says(world, name):
    status, activity, announced = SAMPLES[name]
    contact_id = world.submit()
    world.events()  # drop what the submission announced
    reply = world.ses(sample(name, contact_id))
    world.process()
    contact = world.contact(contact_id)
    assert contact["status"] == status
    types = [item["type"] for item in contact["activities"]]
    if activity is None:
        assert reply["ignored"]
        assert types == ["form_submit"]
        assert world.events() == []
        return
    assert types.count(activity) == 1
    (recorded,) = [item for item in contact["activities"] if item["type"] == activity]
    assert recorded["properties"]["ses_message_id"] == "0100018e0f2a9c1d-6b1e3f7a-sample-000000"
    assert recorded["properties"]["effect_id"] == "msg_sample0001"
    assert recorded["properties"]["flow_id"] == "welcome"
    (event,) = world.events(announced)
    assert event["detail"]["contact_id"] == contact_id
    assert EMAIL not in json.dumps(event), "a domain event carries ids, never the address"


def test_a_permanent_bounce_suppresses_and_the_scoring_rule_takes_its_points(world):
    contact_id = world.submit()
    before = world.contact(contact_id)["score"]
    assert world.ses(sample("ses-bounce-permanent", contact_id))["suppressed"] == 1
    world.process()
    contact = world.contact(contact_id)
    assert contact["status"] == "bounced"
    assert contact["score"] == before - 20


def test_a_redelivered_event_changes_nothing(world):
    contact_id = world.submit()
    first = world.ses(sample("ses-complaint", contact_id))
    world.process()
    after_once = world.contact(contact_id)
    events_once = world.events("EmailComplained")
    again = world.ses(sample("ses-complaint", contact_id))
    world.process()
    after_twice = world.contact(contact_id)
    assert first["suppressed"] == 1
    assert again["already-suppressed"] == 1
    assert after_twice["score"] == after_once["score"]
    assert after_twice["status"] == "complained"
    assert [a["type"] for a in after_twice["activities"]].count("email_complained") == 1
    # the redelivery announces again with the same event id and detail: consumers drop it
    assert [e["detail"] for e in world.events("EmailComplained")] == [e["detail"] for e in events_once]


def test_an_unsubscribed_contact_becomes_bounced_and_a_complaint_outranks_a_bounce(world, aws):
    import boto3

    contact_id = world.submit()
    boto3.client("dynamodb").update_item(
        TableName=aws.tables["ContactsTable"],
        Key={"pk": {"S": f"CONTACT#{contact_id}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET #s = :u",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":u": {"S": "unsubscribed"}},
    )
    world.ses(sample("ses-bounce-permanent", contact_id))
    assert world.contact(contact_id)["status"] == "bounced"
    world.ses(sample("ses-complaint", contact_id))
    assert world.contact(contact_id)["status"] == "complained"
    # a later bounce never downgrades a complaint
    later = sample("ses-bounce-permanent", contact_id)
    later["detail"]["mail"]["messageId"] = "another-message"
    assert world.ses(later)["already-suppressed"] == 1
    assert world.contact(contact_id)["status"] == "complained"


def test_a_returning_consent_never_lifts_a_bounce(world, capture):
    contact_id = world.submit()
    world.ses(sample("ses-bounce-permanent", contact_id))
    again = submitted_contact(capture, {"email": EMAIL, "consent": True})
    assert again == contact_id
    assert world.contact(contact_id)["status"] == "bounced"


def test_without_tags_the_contact_is_found_by_address_and_an_unknown_address_is_only_counted(world):
    contact_id = world.submit()
    event = sample("ses-bounce-permanent", contact_id)
    mail = event["detail"]["mail"]
    mail["tags"] = {"ses:configuration-set": ["leadflow-test-email"]}
    mail["headers"] = []
    mail["destination"][0] = event["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = (
        "Jane.Doe@Example.com"
    )
    assert world.ses(event)["suppressed"] == 1
    assert world.contact(contact_id)["status"] == "bounced"
    stranger = sample("ses-bounce-permanent", contact_id)
    stranger["detail"]["mail"]["tags"] = {}
    stranger["detail"]["mail"]["headers"] = []
    stranger["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = "nobody@example.com"
    assert world.ses(stranger)["no-contact"] == 1


def test_a_tag_naming_another_address_records_but_never_suppresses(world):
    contact_id = world.submit()
    event = sample("ses-bounce-permanent", contact_id)
    event["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = "someone.else@example.com"
    assert world.ses(event)["other-address"] == 1
    assert world.contact(contact_id)["status"] == "subscribed"


def test_an_erased_contact_gets_nothing(world):
    reply = world.ses(sample("ses-bounce-permanent", "ct_doesnotexist"))
    assert reply["contact-gone"] == 1
    assert world.process() >= 0


@pytest.mark.parametrize(
    "mangle",
    [
        lambda e: e.pop("detail"),
        lambda e: e["detail"].pop("bounce"),
        lambda e: e["detail"]["bounce"].update(bounceType="Soft"),
        lambda e: e["detail"]["bounce"].update(bouncedRecipients=[]),
        lambda e: e["detail"]["mail"].pop("messageId"),
        lambda e: e.update(source="aws.other"),
        lambda e: e["detail"].update(eventType="Exploded"),
    ],
)
def test_a_malformed_event_raises_redacted_for_the_dead_letter_queue(world, caplog, mangle):
    contact_id = world.submit()
    event = sample("ses-bounce-permanent", contact_id)
    mangle(event)
    with pytest.raises(RedactedError) as raised:
        world.ses(event)
    assert EMAIL not in str(raised.value)
    assert EMAIL not in caplog.text
    assert world.contact(contact_id)["status"] == "subscribed"


@pytest.mark.parametrize("kind", ["Send", "Open", "Click", "Reject", "Rendering Failure", "Subscription"])
def test_every_other_kind_is_ignored_without_error(world, kind):
    contact_id = world.submit()
    event = sample("ses-delivery", contact_id)
    event["detail"]["eventType"] = kind
    event["detail"].pop("delivery")
    reply = world.ses(event)
    assert reply["ignored"]
    assert world.contact(contact_id)["status"] == "subscribed"
