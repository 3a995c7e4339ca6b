"""Scheduled housekeeping through its handler: score decay and the activity outbox sweep."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadflow import clock
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import LambdaContext, json_body
from tests.support.forms import submitted_contact

FORM = "/v1/forms/webinar-signup/submissions"


@pytest.fixture
def frozen_clock():
    """A clock the test moves by hand, as the local stack's /_local/clock does."""
    adjustable = clock.AdjustableClock(speed=1e-9)
    previous = clock.install(adjustable)
    yield adjustable
    clock.install(previous)


@pytest.fixture
def decaying(aws, apply_bundle):
    bundle = scoring_bundle()
    bundle["scoring"]["decay"] = {"points": -5, "every": "30d", "floor": 0}
    apply_bundle(bundle)
    return bundle


def run(job: str) -> dict[str, Any]:
    return functions.load("housekeeping").lambda_handler(
        {"job": job}, LambdaContext(function_name="housekeeping")
    )


def submit(capture, email: str) -> str:
    return submitted_contact(capture, {"email": email, "consent": True})


def score_of(admin, contact_id: str) -> dict[str, Any]:
    return json_body(admin("GET", f"/v1/admin/contacts/{contact_id}/score", iam=True))


def test_inactive_contacts_decay_step_by_step_down_to_the_floor(aws, decaying, capture, admin, frozen_clock):
    process = functions.load("process").lambda_handler
    contact_id = submit(capture, "old@example.com")
    queues.drain(process, aws.queues["ActivityQueue"])
    assert score_of(admin, contact_id)["score"] == 5
    # Nothing is due before 30 days of inactivity
    frozen_clock.advance(timedelta(days=29))
    assert run("decay") == {"job": "decay", "examined": 0, "changed": 0}
    # After 30 days one step falls due: 5 - 5 = 0, the floor, and the contact leaves the index
    frozen_clock.advance(timedelta(days=2))
    assert run("decay") == {"job": "decay", "examined": 1, "changed": 1}
    ledger = score_of(admin, contact_id)
    assert ledger["score"] == 0
    newest = ledger["entries"][0]
    assert (newest["rule_id"], newest["points"]) == ("decay", -5)
    frozen_clock.advance(timedelta(days=60))
    assert run("decay")["examined"] == 0


def test_decay_runs_twice_change_nothing_more(aws, decaying, capture, admin, frozen_clock):
    from leadflow.adapters import activity_queue
    from leadflow.domain.activities import Activity

    process = functions.load("process").lambda_handler
    contact_id = submit(capture, "twice@example.com")
    activity_queue.send(
        Activity(
            activity_id="dl-1",
            type="download",
            occurred_at=clock.now(),
            contact_id=contact_id,
            properties={"asset_type": "whitepaper", "topic": "x"},
        )
    )
    queues.drain(process, aws.queues["ActivityQueue"])
    assert score_of(admin, contact_id)["score"] == 45
    frozen_clock.advance(timedelta(days=31))
    run("decay")
    run("decay")
    assert score_of(admin, contact_id)["score"] == 40
    frozen_clock.advance(timedelta(days=30))
    run("decay")
    assert score_of(admin, contact_id)["score"] == 35


def test_outbox_sweep_enqueues_what_capture_could_not(aws, decaying, capture, admin, frozen_clock):
    from leadflow import aws as clients

    def refuse(**_: Any) -> None:
        raise ConnectionError("sqs unreachable")

    sqs = clients.client("sqs")
    sqs.meta.events.register("before-call.sqs.SendMessage", refuse)
    try:
        contact_id = submit(capture, "lost@example.com")  # the visitor still gets their 202
    finally:
        sqs.meta.events.unregister("before-call.sqs.SendMessage", refuse)
    assert queues.read_all(aws.queues["ActivityQueue"]) == []
    assert run("outbox")["examined"] == 0  # still inside the grace period
    frozen_clock.advance(timedelta(minutes=6))
    assert run("outbox")["examined"] == 1
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert score_of(admin, contact_id)["score"] == 5
    frozen_clock.advance(timedelta(minutes=6))
    assert run("outbox")["examined"] == 0  # applied activities leave the outbox


def test_a_backlog_is_resent_with_doubling_waits_and_applied_once(
    aws, decaying, capture, admin, frozen_clock
):
    """The processor is behind: the activity's message waits in the queue. The sweep cannot tell
    that from a lost message, so it resends, but each resend waits twice as long as the last
    (5, 10, 20 minutes), not every run; however many copies pile up, the points land once."""
    contact_id = submit(capture, "behind@example.com")  # enqueued, and nobody processes it yet
    resent_at = []
    for minute in range(1, 41):
        frozen_clock.advance(timedelta(minutes=1))
        if run("outbox")["examined"]:
            resent_at.append(minute)
    assert resent_at == [6, 17, 38]  # stored at 0: due after 5 minutes, then 10, then 20 after each resend
    waiting = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws.queues["ActivityQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert waiting == str(1 + 3)  # the original and three resent copies
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert score_of(admin, contact_id)["score"] == 5
    frozen_clock.advance(timedelta(hours=7))
    assert run("outbox")["examined"] == 0


def test_an_activity_applied_while_the_sweep_resends_it_stays_applied(
    aws, decaying, capture, admin, frozen_clock
):
    """The sweep read it as pending; the processor applies it before the sweep moves it back:
    the sweep's write is refused, and the outbox does not take the applied activity back."""
    from leadflow.store import contacts

    contact_id = submit(capture, "between@example.com")
    frozen_clock.advance(timedelta(minutes=6))
    [read] = [
        entry
        for shard in range(contacts.PENDING_SHARDS)
        for entry in contacts.pending_activities(shard, clock.now() - timedelta(minutes=5))
    ]
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert contacts.defer_pending(read, clock.now()) is False
    frozen_clock.advance(timedelta(hours=7))
    assert run("outbox")["examined"] == 0
    assert score_of(admin, contact_id)["score"] == 5


def test_an_activity_that_keeps_failing_is_retried_at_most_every_six_hours(
    aws, decaying, capture, frozen_clock
):
    from leadflow.services import housekeeping

    submit(capture, "poison@example.com")
    resent_at = []
    for run_number in range(1, 4 * 24 * 12 + 1):  # four days of five-minute runs
        frozen_clock.advance(timedelta(minutes=5))
        if housekeeping.sweep_outbox().examined:
            resent_at.append(run_number * 5)
    gaps = [later - earlier for earlier, later in itertools.pairwise(resent_at)]
    assert gaps == sorted(gaps)  # the waits grow ...
    assert gaps[0] < 30  # ... from minutes
    assert 6 * 60 <= gaps[-1] <= 6 * 60 + 5  # ... to six hours
    assert 12 <= len(resent_at) <= 24  # not the 1,150 resends of one every run


def test_an_event_stating_an_older_time_is_not_lost_on_arrival(aws, decaying, frozen_clock):
    """Its place in the outbox is when it was stored, not the time it says it happened."""
    from leadflow.domain.activities import Activity
    from leadflow.services import housekeeping
    from leadflow.store import contacts, dynamo

    stated = clock.now() - timedelta(days=2)
    activity = Activity(activity_id="late-1", type="page_view", occurred_at=stated, contact_id="c_late")
    dynamo.transact_write([contacts.put_activity(activity)])
    assert housekeeping.sweep_outbox().examined == 0
    frozen_clock.advance(timedelta(minutes=6))
    assert housekeeping.sweep_outbox().examined == 1


def test_a_segment_decay_moves_a_contact_into_sets_off_its_ma_to_crm_rule(
    aws, apply_bundle, capture, admin, frozen_clock
):
    """A contact who goes quiet joins the "gone-quiet" segment through decay, not through an
    activity; the rule on that segment still adds them to the win-back CRM campaign, once."""
    bundle = scoring_bundle()
    bundle["scoring"]["decay"] = {"points": -5, "every": "30d", "floor": 0}
    bundle["lists"].append({"id": "gone-quiet", "kind": "segment", "where": {"score_below": 5}})
    bundle["campaigns"].append(
        {
            "id": "crm-winback",
            "kind": "crm",
            "name": "Win-back",
            "status": "active",
            "member_statuses": [{"name": "To call", "default": True}, {"name": "Called", "responded": True}],
        }
    )
    bundle["sync_rules"] = [
        {
            "id": "quiet-to-winback",
            "direction": "ma_to_crm",
            "when": {"in_list": "gone-quiet"},
            "then": {"add_to_crm_campaign": "crm-winback"},
        }
    ]
    apply_bundle(bundle)
    tap = queues.bus_tap(aws.buses["EventBus"])
    contact_id = submit(capture, "quiet@example.com")
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    contact = json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))
    assert "gone-quiet" not in contact["lists"]
    assert contact["crm_campaigns"] == []
    queues.read_all(tap)

    frozen_clock.advance(timedelta(days=31))
    assert run("decay")["changed"] == 1
    contact = json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))
    assert contact["score"] == 0
    assert "gone-quiet" in contact["lists"]
    assert [(m["campaign_id"], m["status"], m["source"]) for m in contact["crm_campaigns"]] == [
        ("crm-winback", "To call", "rule")
    ]
    events = queues.read_all(tap)
    added = [event for event in events if event["detail-type"] == "CrmCampaignMemberAdded"]
    assert [event["detail"]["campaign_id"] for event in added] == ["crm-winback"]  # the connectors hear of it
    assert len({event["id"] for event in events}) == len(events)  # each event its own id

    assert run("decay")["changed"] == 0  # at the floor: nothing more, and no second membership
    again = json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))
    assert len(again["crm_campaigns"]) == 1
