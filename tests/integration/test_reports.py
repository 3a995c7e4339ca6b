"""The reports through their real handlers on moto: capture and process announce, the bus rule
queues the events, the reports function counts each once, and the admin routes read the counters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def report_bundle() -> dict[str, Any]:
    """The scoring bundle, whose qualify action adds to crm-inbound-mql, under a parent
    campaign with costs, plus a sibling that nobody joins."""
    bundle = scoring_bundle()
    inbound = next(c for c in bundle["campaigns"] if c["id"] == "crm-inbound-mql")
    inbound.update(parent="crm-2026", actual_cost=1000, budgeted_cost=1200, expected_revenue=5000)
    bundle["campaigns"] += [
        {
            "id": "crm-2026",
            "kind": "crm",
            "name": "2026 programme",
            "status": "active",
            "actual_cost": 500,
            "expected_revenue": 0,
        },
        {"id": "crm-events", "kind": "crm", "name": "Events", "parent": "crm-2026", "budgeted_cost": 300},
    ]
    return bundle


@pytest.fixture
def fixed_clock() -> Iterator[clock.AdjustableClock]:
    previous = clock.current()
    installed = clock.AdjustableClock(speed=1.0, start=START)
    clock.install(installed)
    yield installed
    clock.install(previous)


def wire_report_rule(stack: Any) -> None:
    """The template's report rule delivers to its queue, as EventBridge does in AWS (the local
    stack wires its rules with its own pollers; in-process tests wire this one to its target)."""
    rule = next(rule for rule in stack.model.rules if rule.logical_id == "ReportEventsRule")
    targets = [{"Id": target.id, "Arn": target.arn} for target in rule.targets if target.kind == "queue"]
    assert targets
    boto3.client("events").put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=targets)


@pytest.fixture
def world(aws, fixed_clock, apply_bundle, capture, admin):
    wire_report_rule(aws)
    apply_bundle(report_bundle())
    process = functions.load("process").lambda_handler
    reports = functions.load("reports").lambda_handler

    class World:
        stack = aws

        def submit(self, email: str, form: str = "webinar-signup") -> str:
            fields = {"email": email, "consent": True}
            return submitted_contact(capture, fields, form=form)

        def trial(self, contact_id: str) -> None:
            occurred = clock.now()
            activity_queue.send(
                Activity(
                    activity_id=stable_id("t", "trial", contact_id, clock.iso(occurred)),
                    type="trial_signup",
                    occurred_at=occurred,
                    contact_id=contact_id,
                )
            )

        def settle(self) -> None:
            queues.drain(process, aws.queues["ActivityQueue"])
            queues.drain(reports, aws.queues["ReportQueue"])

        def get(self, path: str, **query: str) -> dict[str, Any]:
            return admin("GET", path, query=query or None, iam=True)

    return World()


def _ok(response: dict[str, Any]) -> Any:
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def test_forms_and_a_qualification_are_counted_in_the_funnel_and_the_campaigns(world):
    ids = [world.submit(f"p{n}@example.com") for n in range(3)]
    world.submit("e@example.com", form="ebook")
    world.trial(ids[0])
    world.settle()

    funnel = _ok(world.get("/v1/admin/reports/funnel", **{"from": "2026-11-24", "to": "2026-11-24"}))
    assert funnel["overall"]["counts"] == {
        "subscriber": 4,
        "lead": 4,
        "mql": 1,
        "sql": 0,
        "opportunity": 0,
        "customer": 0,
    }
    conversions = {(c["from"], c["to"]): c["rate"] for c in funnel["overall"]["conversions"]}
    assert conversions[("subscriber", "lead")] == 1
    assert conversions[("lead", "mql")] == 0.25
    assert conversions[("sql", "opportunity")] is None
    by_campaign = {row["ma_campaign_id"]: row for row in funnel["ma_campaigns"]}
    assert by_campaign["webinar-q3"]["counts"]["lead"] == 3
    assert by_campaign["webinar-q3"]["counts"]["mql"] == 1
    assert by_campaign["ebook-q4"]["counts"]["lead"] == 1
    assert by_campaign["ebook-q4"]["name"] == "Q4 ebook"

    report = {row["campaign_id"]: row for row in _ok(world.get("/v1/admin/reports/campaigns"))["campaigns"]}
    assert list(report) == ["crm-2026", "crm-inbound-mql", "crm-events"]  # parents first
    inbound = report["crm-inbound-mql"]
    assert inbound["figures"]["members"] == 1
    assert inbound["figures"]["statuses"] == {"Sent": 1, "Contacted": 0}
    assert inbound["figures"]["responded"] == 0
    assert inbound["figures"]["response_rate"] == 0
    assert inbound["figures"]["cost_per_response"] is None
    assert inbound["figures"]["roi"] == 4  # (5000 - 1000) / 1000
    parent = report["crm-2026"]
    assert parent["depth"] == 0
    assert parent["children"] == ["crm-inbound-mql", "crm-events"]
    assert parent["figures"]["members"] == 0
    assert parent["figures"]["roi"] == -1  # expected 0, spent 500
    assert parent["hierarchy"]["members"] == 1
    assert parent["hierarchy"]["actual_cost"] == 1500
    assert parent["hierarchy"]["budgeted_cost"] == 1500
    assert parent["hierarchy"]["expected_revenue"] == 5000
    assert parent["hierarchy"]["roi"] == 2.3333
    assert report["crm-events"]["figures"]["actual_cost"] is None
    assert report["crm-events"]["figures"]["roi"] is None

    listed = {row["id"]: row for row in _ok(world.get("/v1/admin/campaigns"))["campaigns"]}
    assert listed["webinar-q3"] == {**listed["webinar-q3"], "kind": "ma", "members": 3, "responded": None}
    assert listed["ebook-q4"]["members"] == 1
    assert listed["crm-inbound-mql"]["members"] == 1

    view = _ok(world.get("/v1/admin/campaigns/crm-2026"))
    assert view["children"] == ["crm-inbound-mql", "crm-events"]
    assert view["hierarchy"]["members"] == 1
    assert view["figures"]["members"] == 0
    assert view["actual_cost"] == 500
    ma = _ok(world.get("/v1/admin/campaigns/webinar-q3"))
    assert ma["members"] == 3
    assert ma["figures"] is None


def test_a_redelivered_event_is_counted_once(world):
    world.submit("once@example.com")
    queues.drain(functions.load("process").lambda_handler, world.stack.queues["ActivityQueue"])
    sqs = boto3.client("sqs")
    url = world.stack.queues["ReportQueue"]
    event, messages = queues.receive_event(url)
    assert messages
    reports = functions.load("reports").lambda_handler
    assert reports(event, LambdaContext(function_name="reports")) == {"batchItemFailures": []}
    # at-least-once: the same records again (a lost delete), and once more as a fresh send
    assert reports(event, LambdaContext(function_name="reports")) == {"batchItemFailures": []}
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
    queues.drain(reports, url)
    funnel = _ok(world.get("/v1/admin/reports/funnel", **{"from": "2026-11-24", "to": "2026-11-24"}))
    assert funnel["overall"]["counts"]["subscriber"] == 1
    assert funnel["overall"]["counts"]["lead"] == 1
    listed = {row["id"]: row for row in _ok(world.get("/v1/admin/campaigns"))["campaigns"]}
    assert listed["webinar-q3"]["members"] == 1


def test_the_funnel_counts_by_the_utc_day_the_stage_was_entered(world, fixed_clock):
    world.submit("monday@example.com")
    world.settle()
    fixed_clock.advance(timedelta(days=1))
    tuesday = world.submit("tuesday@example.com")
    world.trial(tuesday)
    world.settle()
    one_day = _ok(world.get("/v1/admin/reports/funnel", **{"from": "2026-11-25", "to": "2026-11-25"}))
    assert one_day["overall"]["counts"]["lead"] == 1
    assert one_day["overall"]["counts"]["mql"] == 1
    both = _ok(world.get("/v1/admin/reports/funnel", **{"from": "2026-11-24", "to": "2026-11-25"}))
    assert both["overall"]["counts"]["lead"] == 2
    assert both["days"] == 2
    only = _ok(world.get("/v1/admin/reports/funnel", ma_campaign="ebook-q4"))
    assert [row["ma_campaign_id"] for row in only["ma_campaigns"]] == ["ebook-q4"]
    assert only["ma_campaigns"][0]["counts"]["lead"] == 0
    assert only["to"] == "2026-11-25"
    assert only["from"] == "2026-10-27"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-25", "to": "2026-11-24"}, "from"),
        ({"from": "2025-01-01", "to": "2026-11-24"}, "to"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-11-24T00:00:00"}, "from"),
        ({"to": "0001-01-01", "from": "9999-12-31"}, "from"),
        ({"ma_campaign": "crm-inbound-mql"}, "ma_campaign"),
        ({"ma_campaign": "x" * 65}, "ma_campaign"),
    ],
)
def test_a_hostile_window_is_a_422_naming_the_parameter(world, query, field):
    response = world.get("/v1/admin/reports/funnel", **query)
    assert response["statusCode"] == 422, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error


def test_the_first_days_of_the_calendar_are_a_window_too(world):
    body = _ok(world.get("/v1/admin/reports/funnel", to="0001-01-05"))
    assert body["from"] == "0001-01-01"
    assert body["days"] == 5
    body = _ok(world.get("/v1/admin/reports/funnel", **{"from": "9999-12-31", "to": "9999-12-31"}))
    assert body["overall"]["counts"]["lead"] == 0


@pytest.mark.parametrize("campaign_id", ["nope", "CRM-2026", "a'b", "é", " "])
def test_an_unknown_campaign_is_a_404(world, campaign_id):
    response = world.get(f"/v1/admin/campaigns/{campaign_id}")
    assert response["statusCode"] == 404, response["body"]
    assert json_body(response)["error"]["code"] == "not_found"


def test_a_campaign_id_too_long_is_a_422(world):
    response = world.get("/v1/admin/campaigns/" + "a" * 65)
    assert response["statusCode"] == 422


def _sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"r{index}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ReportQueue",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def _bus(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "x",
        "detail-type": detail_type,
        "source": "leadflow",
        "time": "2026-11-24T10:00:00Z",
        "detail": detail,
    }


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"detail-type": "ContactCreated"},
        _bus("ContactCreated", {"contact_id": "c1"}),  # no event_id: cannot be claimed
        _bus("LifecycleStageChanged", {"event_id": "e", "contact_id": "c1", "from": "lead", "to": "vip"}),
        _bus("CrmCampaignMemberAdded", {"event_id": "e", "contact_id": "c1", "campaign_id": "x"}),
        _bus(
            "CrmCampaignMemberAdded", {"event_id": "e", "contact_id": "c1", "campaign_id": "x", "status": ""}
        ),
        _bus("FormSubmitted", {"event_id": "e", "contact_id": "c1"}),
        _bus("ContactCreated", {"event_id": "e" * 129, "contact_id": "c1"}),
    ],
)
def test_an_event_that_cannot_be_counted_fails_alone_and_is_not_dropped(world, body):
    good = _bus(
        "MaCampaignJoined", {"event_id": "evt-good", "contact_id": "c9", "ma_campaign_id": "webinar-q3"}
    )
    raw = body if isinstance(body, str) else json.dumps(body)
    event = _sqs_event(good)
    event["Records"].append({**event["Records"][0], "messageId": "bad", "body": raw})
    reply = functions.load("reports").lambda_handler(event, LambdaContext(function_name="reports"))
    assert reply == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    listed = {row["id"]: row for row in _ok(world.get("/v1/admin/campaigns"))["campaigns"]}
    assert listed["webinar-q3"]["members"] == 1


def test_status_changes_and_removals_move_the_per_status_counts(world):
    reports = functions.load("reports").lambda_handler
    c = "crm-inbound-mql"

    def member(kind: str, event_id: str, contact: str, **detail: Any) -> dict[str, Any]:
        return _bus(kind, {"event_id": event_id, "contact_id": contact, "campaign_id": c, **detail})

    events = [
        member("CrmCampaignMemberAdded", "a1", "ann", status="Sent", responded=False),
        member("CrmCampaignMemberAdded", "a2", "bob", status="Contacted", responded=True),
        member(
            "CrmCampaignMemberStatusChanged",
            "s1",
            "ann",
            status="Contacted",
            previous_status="Sent",
            responded=True,
            first_response=True,
        ),
        member("CrmCampaignMemberRemoved", "r1", "bob", previous_status="Contacted", responded=True),
        # an admin moves ann back: no longer in a responded status
        member(
            "CrmCampaignMemberStatusChanged",
            "s2",
            "ann",
            status="Sent",
            previous_status="Contacted",
            responded=False,
            first_response=False,
        ),
    ]
    assert reports(_sqs_event(*events), LambdaContext()) == {"batchItemFailures": []}
    figures = _ok(world.get(f"/v1/admin/campaigns/{c}"))["figures"]
    assert figures["members"] == 1
    assert figures["responded"] == 0
    assert figures["statuses"] == {"Sent": 1, "Contacted": 0}
    assert figures["response_rate"] == 0
    assert figures["cost_per_response"] is None
    events = [
        member("CrmCampaignMemberStatusChanged", "s3", "ann", status="Contacted", previous_status="Sent")
    ]
    assert reports(_sqs_event(*events), LambdaContext()) == {"batchItemFailures": []}
    figures = _ok(world.get(f"/v1/admin/campaigns/{c}"))["figures"]
    assert figures["responded"] == 1
    assert figures["cost_per_response"] == 1000
