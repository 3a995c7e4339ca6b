"""The processor through its real handler on moto: scoring, actions, lifecycle, segments,
qualification, anonymous history, and exactly-once effects under at-least-once delivery."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain.activities import Activity
from leadflow.ids import stable_id
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import LambdaContext, json_body
from tests.support.forms import submitted_contact

FORM = "/v1/forms/webinar-signup/submissions"


@pytest.fixture
def world(aws, apply_bundle, capture, admin):
    """The scoring bundle applied, a tap on the event bus, and helpers to act and look."""
    apply_bundle(scoring_bundle())
    tap = queues.bus_tap(aws.buses["EventBus"])
    process = functions.load("process").lambda_handler
    queue_url = aws.queues["ActivityQueue"]

    class World:
        stack = aws

        def submit(self, email: str, **context: str) -> str:
            fields = {"email": email, "first_name": "Ann", "role": "Engineer", "consent": True}
            return submitted_contact(capture, fields, context=context)

        def track(
            self,
            kind: str,
            *,
            contact_id: str | None = None,
            anonymous_id: str | None = None,
            when: Any = None,
            **properties: Any,
        ) -> Activity:
            occurred = when or clock.now()
            activity = Activity(
                activity_id=stable_id(
                    "t", kind, str(contact_id or anonymous_id), clock.iso(occurred), json.dumps(properties)
                ),
                type=kind,
                occurred_at=occurred,
                contact_id=contact_id,
                anonymous_id=anonymous_id,
                properties=properties,
            )
            activity_queue.send(activity)
            return activity

        def process(self) -> int:
            return queues.drain(process, queue_url)

        def contact(self, contact_id: str) -> dict[str, Any]:
            return json_body(
                admin(
                    "GET",
                    f"/v1/admin/contacts/{contact_id}",
                    iam=True,
                    path_parameters={"contact_id": contact_id},
                )
            )

        def ledger(self, contact_id: str) -> list[dict[str, Any]]:
            return json_body(admin("GET", f"/v1/admin/contacts/{contact_id}/score", iam=True))["entries"]

        def members(self, list_id: str) -> list[str]:
            reply = json_body(admin("GET", f"/v1/admin/segments/{list_id}/members", iam=True))
            return [member["contact_id"] for member in reply["members"]]

        def events(self) -> list[dict[str, Any]]:
            return queues.read_all(tap)

    return World()


def test_form_submission_scores_tags_lists_and_announces(world):
    contact_id = world.submit("ann@example.com")
    world.process()
    contact = world.contact(contact_id)
    # Then the form rule fired, completion actions ran, and the person is now a lead
    assert contact["score"] == 5
    assert contact["tags"] == ["webinar"]
    assert contact["lists"] == ["webinar-registrants"]
    assert contact["stage"] == "lead"
    assert [(row["rule_id"], row["points"]) for row in world.ledger(contact_id)] == [("form", 5)]
    assert world.members("webinar-registrants") == [contact_id]
    kinds = [event["detail-type"] for event in world.events()]
    assert kinds == [
        "ContactCreated",
        "MaCampaignJoined",
        "FormSubmitted",
        "ContactScored",
        "LifecycleStageChanged",
    ]


def test_every_matching_rule_fires_with_max_per_day_and_tag_from(world):
    contact_id = world.submit("bo@example.com")
    now = clock.now()
    world.track("page_view", contact_id=contact_id, when=now, url="https://x.com/pricing")
    world.track(
        "page_view",
        contact_id=contact_id,
        when=now + timedelta(seconds=1),
        url="https://x.com/pricing?plan=pro",
    )
    world.track("download", contact_id=contact_id, asset_type="whitepaper", topic="Serverless Costs")
    world.track("custom", contact_id=contact_id, name="cart_abandoned")
    world.process()
    contact = world.contact(contact_id)
    # form 5 + pricing 20 once + page 2 twice + whitepaper 40 - cart 5
    assert contact["score"] == 5 + 20 + 2 + 2 + 40 - 5
    assert "serverless-costs" in contact["tags"]
    assert contact["temperature"] == "warm"
    rules = sorted(row["rule_id"] for row in world.ledger(contact_id))
    assert rules == ["cart", "form", "page", "page", "pricing", "whitepaper"]


def test_qualifying_activity_makes_an_mql_hands_over_to_sales_and_joins_segments(world):
    contact_id = world.submit("cy@example.com")
    world.process()
    world.events()
    world.track("trial_signup", contact_id=contact_id)
    world.process()
    contact = world.contact(contact_id)
    assert contact["stage"] == "mql"
    assert contact["temperature"] == "hot"
    assert contact["crm_campaigns"] == [
        {
            "campaign_id": "crm-inbound-mql",
            "status": "Sent",
            "responded": False,
            "source": "qualify",
            "joined_at": contact["crm_campaigns"][0]["joined_at"],
        }
    ]
    assert set(contact["lists"]) == {"webinar-registrants", "hot-leads", "warm-engineers"}
    events = {event["detail-type"]: event["detail"] for event in world.events()}
    qualified = events["LeadQualified"]
    assert qualified["score"] == 105
    assert qualified["trigger"] == "activity"
    assert qualified["ma_campaign_id"] == "webinar-q3"
    assert qualified["top_rules"][0]["rule_id"] == "trial"
    assert "email" not in json.dumps(qualified)
    assert events["CrmCampaignMemberAdded"]["campaign_id"] == "crm-inbound-mql"
    assert events["LifecycleStageChanged"] == {**events["LifecycleStageChanged"], "from": "lead", "to": "mql"}


def test_negative_points_leave_a_segment(world):
    contact_id = world.submit("di@example.com")
    world.track("download", contact_id=contact_id, asset_type="whitepaper", topic="x")
    world.process()
    assert "warm-engineers" in world.contact(contact_id)["lists"]
    world.track("unsubscribe", contact_id=contact_id)
    world.process()
    contact = world.contact(contact_id)
    assert contact["score"] == 5 + 40 - 50
    assert "warm-engineers" not in contact["lists"]
    assert world.members("warm-engineers") == []


def test_visitor_history_is_kept_and_scored_when_the_visitor_converts(world):
    world.track("page_view", anonymous_id="anon-1", url="https://x.com/pricing")
    world.track("page_view", anonymous_id="anon-1", url="https://x.com/blog/a")
    world.process()
    contact_id = world.submit("ed@example.com", anonymous_id="anon-1")
    world.process()
    contact = world.contact(contact_id)
    assert contact["score"] == 5 + 20 + 2 + 2
    assert sorted(activity["type"] for activity in contact["activities"]) == [
        "form_submit",
        "page_view",
        "page_view",
    ]
    # And later anonymous events of that browser are the contact's at once
    world.track("page_view", anonymous_id="anon-1", url="https://x.com/blog/b")
    world.process()
    assert world.contact(contact_id)["score"] == 5 + 20 + 2 + 2 + 2


def test_a_batch_delivered_twice_yields_the_same_state_as_once(world, aws):
    contact_id = world.submit("fi@example.com")
    for url in ("https://x.com/pricing", "https://x.com/a", "https://x.com/b"):
        world.track("page_view", contact_id=contact_id, url=url)
    event, messages = queues.receive_event(aws.queues["ActivityQueue"])
    assert len(messages) == 4
    process = functions.load("process").lambda_handler
    first = process(event, LambdaContext(function_name="process"))
    state_once = world.contact(contact_id)
    ledger_once = world.ledger(contact_id)
    events_once = world.events()
    # When the very same batch arrives again (a lost delete, a retried poll)
    second = process(event, LambdaContext(function_name="process"))
    assert first == second == {"batchItemFailures": []}
    state_twice = world.contact(contact_id)
    assert {**state_twice, "updated_at": None} == {**state_once, "updated_at": None}
    assert world.ledger(contact_id) == ledger_once
    events_twice = world.events()
    # Then only the same events (same ids) may be re-announced, never new ones
    assert {event["detail"]["event_id"] for event in events_twice} <= {
        event["detail"]["event_id"] for event in events_once
    }


def test_poison_record_fails_alone_and_the_rest_of_the_batch_is_applied(world, aws):
    contact_id = world.submit("gu@example.com")
    boto3.client("sqs").send_message(
        QueueUrl=aws.queues["ActivityQueue"], MessageBody='{"not": "an activity"}'
    )
    event, messages = queues.receive_event(aws.queues["ActivityQueue"])
    reply = functions.load("process").lambda_handler(event, LambdaContext(function_name="process"))
    poison = next(message["MessageId"] for message in messages if "not" in message["Body"])
    assert reply == {"batchItemFailures": [{"itemIdentifier": poison}]}
    assert world.contact(contact_id)["score"] == 5


def test_a_throttled_write_retries_only_its_own_record(world, aws):
    from botocore.exceptions import ClientError

    from leadflow import aws as clients

    first = world.submit("ha@example.com")
    second = world.submit("io@example.com")
    calls = {"count": 0}

    def throttle_first(**_: Any) -> None:
        calls["count"] += 1
        if calls["count"] == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "TransactWriteItems"
            )

    client = clients.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", throttle_first)
    try:
        event, _ = queues.receive_event(aws.queues["ActivityQueue"])
        reply = functions.load("process").lambda_handler(event, LambdaContext(function_name="process"))
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", throttle_first)
    assert len(reply["batchItemFailures"]) == 1
    scores = {world.contact(first)["score"], world.contact(second)["score"]}
    assert scores == {0, 5}
