"""The nurture runner through its handlers on moto: enrolling on a form, the minute run over the
due-time index, the step worker, replays, races, wake-ups and the watchdog. The clock is moved by
hand (no test sleeps)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.enrollment import EnrollmentState, effect_id
from leadflow.settings import get_settings
from leadflow.store import enrollments as enrollments_store
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import LambdaContext, json_body
from tests.support.forms import submitted_contact
from tests.support.mail import ready_to_send

EMAIL_TEMPLATES = [
    {"id": "t1", "subject": "Welcome", "html": "<p>Hello</p>"},
    {"id": "t2", "subject": "Invite", "html": "<p>Come</p>"},
]
WELCOME = {
    "id": "welcome",
    "trigger": {"form_submitted": "webinar-signup"},
    "steps": [
        {"id": "hello", "send_email": {"template": "t1"}},
        {"id": "pause", "wait": "2d"},
        {"id": "warm", "update": {"add_tags": ["nurtured"], "score": 7}},
        {"id": "call", "sales_task": {"channel": "phone", "note": "Call them"}},
    ],
}
INVITE = {
    "id": "invite",
    "trigger": {"form_submitted": "webinar-signup"},
    "steps": [
        {"id": "invite", "send_email": {"template": "t2"}},
        {
            "id": "opened",
            "wait_for": {"activity": "email_open", "of_step": "invite", "within": "3d"},
            "then": "engaged",
            "else": "end",
        },
        {"id": "engaged", "update": {"add_tags": ["opened-invite"]}},
    ],
}


@pytest.fixture(autouse=True)
def _can_send(aws, monkeypatch) -> None:
    """Flow emails really go out through moto's SES: a verified sender, the signing key, the URL."""
    ready_to_send(monkeypatch)


@pytest.fixture
def frozen_clock():
    adjustable = clock.AdjustableClock(speed=1e-9)
    previous = clock.install(adjustable)
    yield adjustable
    clock.install(previous)


def _bundle(*flows: dict[str, Any]) -> dict[str, Any]:
    bundle = scoring_bundle()
    bundle["email_templates"] = EMAIL_TEMPLATES
    bundle["flows"] = list(flows)
    return bundle


def nurture(event: dict[str, Any]) -> dict[str, Any]:
    return functions.load("nurture").lambda_handler(event, LambdaContext(function_name="nurture"))


def minute_run() -> dict[str, Any]:
    return nurture({"job": "due"})


def process_all(aws) -> None:
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])


def steps_all(aws) -> None:
    queues.drain(functions.load("nurture").lambda_handler, aws.queues["StepQueue"])


def enrollment(contact_id: str, flow_id: str):
    stored = enrollments_store.get(contact_id, flow_id)
    assert stored is not None
    return stored.enrollment


def claims(contact_id: str) -> list[dict[str, Any]]:
    from leadflow.store import dynamo

    rows = boto3.client("dynamodb").query(
        TableName=get_settings().contacts_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
        ExpressionAttributeValues={":pk": {"S": f"CONTACT#{contact_id}"}, ":e": {"S": "EFFECT#"}},
        ConsistentRead=True,
    )["Items"]
    return [dynamo.deserialize(row) for row in rows]


def profile(admin, contact_id: str) -> dict[str, Any]:
    return json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))


def sales_tasks(tap: str) -> list[dict[str, Any]]:
    return [event for event in queues.read_all(tap) if event["detail-type"] == "SalesTaskCreated"]


def test_a_form_submission_enrolls_and_the_flow_runs_to_its_end(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    apply_bundle(_bundle(WELCOME))
    tap = queues.bus_tap(aws.buses["EventBus"])
    contact_id = submitted_contact(capture, {"email": "lead@example.com", "consent": True})
    process_all(aws)
    started = enrollment(contact_id, "welcome")
    assert started.state is EnrollmentState.ACTIVE
    assert started.trigger_activity_id is not None
    # the new enrollment went to the step queue at once: the email step runs, then the wait holds
    steps_all(aws)
    waiting = enrollment(contact_id, "welcome")
    assert (waiting.state, waiting.step_id) == (EnrollmentState.WAITING, "pause")
    sent = [row for row in claims(contact_id) if row["kind"] == "send_email"]
    assert [(row["status"], row["result"]) for row in sent] == [("done", "sent")]
    # nothing is due until the wait is over
    frozen_clock.advance(timedelta(days=1))
    assert minute_run()["due"] == 0
    frozen_clock.advance(timedelta(days=1, minutes=1))
    assert minute_run() == {"job": "due", "due": 1, "overdue": 0}
    steps_all(aws)
    done = enrollment(contact_id, "welcome")
    assert done.state is EnrollmentState.COMPLETED
    assert [(entry.step_id, entry.outcome) for entry in done.path] == [
        ("hello", "sent"),
        ("pause", "held:wait"),
        ("pause", "waited"),
        ("warm", "updated"),
        ("call", "created"),
    ]
    seen = profile(admin, contact_id)
    assert "nurtured" in seen["tags"]
    assert seen["score"] == 5 + 7  # the form rule, then the flow's update
    (task,) = sales_tasks(tap)
    assert task["detail"]["channel"] == "phone"
    assert task["detail"]["contact_id"] == contact_id
    # over: the index no longer lists it
    frozen_clock.advance(timedelta(days=30))
    assert minute_run()["due"] == 0


def test_a_redelivered_activity_enrolls_nobody_twice(aws, apply_bundle, capture, frozen_clock) -> None:
    apply_bundle(_bundle(WELCOME))
    contact_id = submitted_contact(capture, {"email": "twice@example.com", "consent": True})
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])
    process = functions.load("process").lambda_handler
    process(event, LambdaContext(function_name="process"))
    first = enrollment(contact_id, "welcome")
    process(event, LambdaContext(function_name="process"))  # redelivered
    again = enrollment(contact_id, "welcome")
    assert again == first
    assert again.entry == 1


def test_the_minute_run_finds_exactly_the_due_enrollments_with_one_query_per_shard(
    aws, apply_bundle, capture, frozen_clock
) -> None:
    from leadflow import aws as aws_clients

    apply_bundle(_bundle(WELCOME))
    early = [
        submitted_contact(capture, {"email": f"early{index}@example.com", "consent": True})
        for index in range(3)
    ]
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=1))
    for index in range(2):
        submitted_contact(capture, {"email": f"late{index}@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=1, seconds=1))  # only the early three have waited 2 days
    requests: list[str] = []
    dynamodb = aws_clients.client("dynamodb")
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: requests.append(model.name))
    try:
        assert minute_run() == {"job": "due", "due": 3, "overdue": 0}
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.*")
    # the due-time index only: one Query per shard, no Scan, no read of the waiting ones; then
    # one small write per line sent, moving it on so the next run does not send it again
    assert requests == ["Query"] * enrollments_store.DUE_SHARDS + ["UpdateItem"] * 3
    bodies = queues.read_all(aws.queues["StepQueue"])
    assert sorted(body["contact_id"] for body in bodies) == sorted(early)
    assert {body["reason"] for body in bodies} == {"due"}


def test_a_due_enrollment_is_enqueued_once_and_again_only_when_overdue(
    aws, apply_bundle, capture, frozen_clock
) -> None:
    apply_bundle(_bundle(WELCOME))
    contact_id = submitted_contact(capture, {"email": "once@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=2, seconds=1))
    assert minute_run() == {"job": "due", "due": 1, "overdue": 0}
    # the workers are behind: the next runs do not send it again
    for _ in range(4):
        frozen_clock.advance(timedelta(minutes=1))
        assert minute_run() == {"job": "due", "due": 0, "overdue": 0}
    assert len(queues.read_all(aws.queues["StepQueue"])) == 1
    # five minutes on and still not moved (that message was lost): the watchdog re-drives it, once
    frozen_clock.advance(timedelta(minutes=1, seconds=1))
    assert minute_run() == {"job": "due", "due": 1, "overdue": 1}
    frozen_clock.advance(timedelta(minutes=1))
    assert minute_run() == {"job": "due", "due": 0, "overdue": 0}
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state is EnrollmentState.COMPLETED
    frozen_clock.advance(timedelta(minutes=10))
    assert minute_run() == {"job": "due", "due": 0, "overdue": 0}


def test_a_line_the_worker_moved_on_meanwhile_is_not_moved_by_the_minute_run(
    aws, apply_bundle, capture, frozen_clock, monkeypatch
) -> None:
    """The run reads a line, the worker advances the enrollment (a new line), then the run marks
    what it read: the condition fails and the worker's line stands."""
    from leadflow.services.nurture import schedule

    apply_bundle(_bundle(INVITE))
    contact_id = submitted_contact(capture, {"email": "race@example.com", "consent": True})
    process_all(aws)
    frozen_clock.advance(timedelta(seconds=1))
    real = enrollments_store.mark_enqueued

    def worker_first(line: Any, now: Any, later: Any) -> bool:
        steps_all(aws)  # the worker takes the enrolled message and reaches the wait_for
        return real(line, now, later)

    monkeypatch.setattr(enrollments_store, "mark_enqueued", worker_first)
    assert schedule.run().due == 1
    waiting = enrollment(contact_id, "invite")
    assert waiting.step_id == "opened"
    # the line is at the wait_for's timeout, not moved five minutes on
    monkeypatch.setattr(enrollments_store, "mark_enqueued", real)
    frozen_clock.advance(timedelta(days=3, minutes=1))
    assert minute_run()["due"] == 1


def test_a_replayed_step_message_changes_nothing_and_each_effect_happens_once(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    apply_bundle(_bundle(WELCOME))
    tap = queues.bus_tap(aws.buses["EventBus"])
    contact_id = submitted_contact(capture, {"email": "replay@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=2, minutes=1))
    minute_run()
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    assert len(event["Records"]) == 1
    first = nurture(event)
    after_first = enrollment(contact_id, "welcome")
    second = nurture(event)  # SQS delivered it again
    third = nurture(event)
    assert first == second == third == {"batchItemFailures": []}
    assert enrollment(contact_id, "welcome") == after_first
    assert profile(admin, contact_id)["score"] == 12
    assert len(sales_tasks(tap)) == 1
    kinds = sorted(row["kind"] for row in claims(contact_id))
    assert kinds == sorted(["send_email", "update_contact", "sales_task", "ended"])


def test_two_workers_racing_on_one_enrollment_one_wins_and_effects_happen_once(
    aws, apply_bundle, capture, admin, frozen_clock, monkeypatch
) -> None:
    from leadflow.adapters.step_queue import StepMessage
    from leadflow.services.nurture import worker

    apply_bundle(_bundle(WELCOME))
    tap = queues.bus_tap(aws.buses["EventBus"])
    contact_id = submitted_contact(capture, {"email": "race@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=2, minutes=1))
    read_before_the_winner = enrollments_store.get(contact_id, "welcome")
    message = StepMessage(
        contact_id=contact_id,
        flow_id="welcome",
        reason="due",
        revision=read_before_the_winner.enrollment.revision,
    )
    assert worker.step(message) == "advanced"
    # the loser read the enrollment before the winner wrote it, and computes the same advance
    monkeypatch.setattr(enrollments_store, "get", lambda *args, **kwargs: read_before_the_winner)
    assert worker.step(message) == "raced"
    monkeypatch.undo()
    assert enrollment(contact_id, "welcome").state is EnrollmentState.COMPLETED
    assert profile(admin, contact_id)["score"] == 12
    assert len(sales_tasks(tap)) == 1


def test_a_crash_after_the_commit_is_finished_by_the_next_delivery(
    aws, apply_bundle, capture, admin, frozen_clock, monkeypatch
) -> None:
    from leadflow.services.nurture import effects

    apply_bundle(_bundle(WELCOME))
    tap = queues.bus_tap(aws.buses["EventBus"])
    contact_id = submitted_contact(capture, {"email": "crash@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=2, minutes=1))
    minute_run()
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    real = effects._one
    calls = {"n": 0}

    def crash_on_the_sales_task(bundle, enrollment, effect, now):
        if effect.kind == "sales_task" and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("the worker died")
        return real(bundle, enrollment, effect, now)

    monkeypatch.setattr(effects, "_one", crash_on_the_sales_task)
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):  # the whole (one-record) batch returns to the queue
        nurture(event)
    assert enrollments_store.get(contact_id, "welcome").pending  # the advance is stored, effects pending
    assert nurture(event) == {"batchItemFailures": []}  # the redelivery finishes the effects
    assert not enrollments_store.get(contact_id, "welcome").pending
    assert profile(admin, contact_id)["score"] == 12  # the update ran once
    assert len(sales_tasks(tap)) == 1


def test_an_email_open_wakes_the_wait_for_through_the_processor(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    apply_bundle(_bundle(INVITE))
    contact_id = submitted_contact(capture, {"email": "opens@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    waiting = enrollment(contact_id, "invite")
    assert (waiting.state, waiting.step_id) == (EnrollmentState.WAITING, "opened")
    frozen_clock.advance(timedelta(minutes=10))
    # an open of another email does not wake it
    other = Activity(
        activity_id="open-other",
        type="email_open",
        occurred_at=clock.now(),
        contact_id=contact_id,
        properties={"effect_id": "eff_some_other_email"},
    )
    activity_queue.send(other)
    process_all(aws)
    steps_all(aws)
    assert enrollment(contact_id, "invite").step_id == "opened"
    # the open of the invite moves it on at once, without the minute run
    opened = other.model_copy(
        update={
            "activity_id": "open-invite",
            "properties": {"effect_id": effect_id(waiting.enrollment_id, "invite", 1)},
        }
    )
    activity_queue.send(opened)
    process_all(aws)
    steps_all(aws)
    done = enrollment(contact_id, "invite")
    assert done.state is EnrollmentState.COMPLETED
    assert "opened-invite" in profile(admin, contact_id)["tags"]
    assert any(entry.outcome == "happened" for entry in done.path)
    # the admin contact view shows the enrollment with its path and why each step went where
    (view,) = profile(admin, contact_id)["enrollments"]
    assert (view["flow_id"], view["version"], view["state"], view["step"]) == ("invite", 1, "completed", None)
    woke = [entry for entry in view["path"] if entry["outcome"] == "happened"]
    assert woke[0]["step_id"] == "opened"
    assert woke[0]["why"] == "email_open open-invite"


def test_overdue_enrollments_are_counted_and_re_driven(aws, apply_bundle, capture, frozen_clock) -> None:
    apply_bundle(_bundle(WELCOME))
    contact_id = submitted_contact(capture, {"email": "late@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=2, minutes=1))
    assert minute_run() == {"job": "due", "due": 1, "overdue": 0}
    queues.read_all(aws.queues["StepQueue"])  # the step message is lost (a DLQ, an outage)
    frozen_clock.advance(timedelta(minutes=10))
    assert minute_run() == {"job": "due", "due": 1, "overdue": 1}
    (body,) = queues.read_all(aws.queues["StepQueue"])
    assert (body["contact_id"], body["reason"]) == (contact_id, "overdue")
    # read above, so lost again: re-driven once more five minutes later, not every minute
    frozen_clock.advance(timedelta(minutes=1))
    assert minute_run()["due"] == 0
    frozen_clock.advance(timedelta(minutes=4, seconds=1))
    assert minute_run() == {"job": "due", "due": 1, "overdue": 1}
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state is EnrollmentState.COMPLETED
    assert minute_run() == {"job": "due", "due": 0, "overdue": 0}


def test_an_unreadable_step_message_fails_alone(aws, apply_bundle) -> None:
    apply_bundle(_bundle(WELCOME))
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.queues["StepQueue"], MessageBody="not json")
    sqs.send_message(
        QueueUrl=aws.queues["StepQueue"],
        MessageBody=json.dumps({"contact_id": "c_nobody", "flow_id": "welcome", "reason": "due"}),
    )
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    reply = nurture(event)
    assert len(reply["batchItemFailures"]) == 1


def _sample(name: str) -> dict[str, Any]:
    from tests.support.moto_stack import ROOT

    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def test_the_sample_events_run_through_the_handler(aws, apply_bundle, frozen_clock) -> None:
    """events/nurture-*.json: the schedules' inputs (minute and daily date-field runs), a step batch (for enrollments that do not
    exist here: each is a no-op, never a failure)."""
    apply_bundle(_bundle(WELCOME, INVITE))
    assert minute_run() == nurture(_sample("nurture-minute-run")) == {"job": "due", "due": 0, "overdue": 0}
    assert nurture(_sample("nurture-step-batch")) == {"batchItemFailures": []}
    assert nurture(_sample("nurture-date-run")) == {"job": "dates", "enrolled": 0, "candidates": 0}
    samples = {path.stem for path in (functions.ROOT / "events").glob("nurture-*.json")}
    assert samples == {"nurture-minute-run", "nurture-step-batch", "nurture-date-run"}


def test_a_minute_run_event_of_another_shape_is_refused(aws, apply_bundle) -> None:
    from leadflow.observability import RedactedError

    with pytest.raises(RedactedError):
        nurture({"job": "decay"})


def test_a_disabled_flow_pauses_its_enrollments_and_they_resume_when_it_is_enabled(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    apply_bundle(_bundle(WELCOME))
    contact_id = submitted_contact(capture, {"email": "paused@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    apply_bundle(_bundle({**WELCOME, "enabled": False}))
    frozen_clock.advance(timedelta(days=2, minutes=1))
    assert minute_run()["due"] == 1
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state is EnrollmentState.PAUSED
    # still paused: rechecked hourly, not sent again every minute
    for _ in range(3):
        frozen_clock.advance(timedelta(minutes=1))
        assert minute_run()["due"] == 0
    frozen_clock.advance(timedelta(hours=1))
    assert minute_run()["due"] == 1
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state is EnrollmentState.PAUSED
    apply_bundle(_bundle(WELCOME))
    frozen_clock.advance(timedelta(hours=1, minutes=1))
    assert minute_run()["due"] == 1
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state is EnrollmentState.COMPLETED
    assert "nurtured" in profile(admin, contact_id)["tags"]


def test_a_removed_flow_ends_its_waiting_enrollments_with_the_reason(
    aws, apply_bundle, capture, frozen_clock
) -> None:
    apply_bundle(_bundle(WELCOME))
    contact_id = submitted_contact(capture, {"email": "removed@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    apply_bundle(_bundle(), allow_removals=True)
    frozen_clock.advance(timedelta(days=2, minutes=1))
    assert minute_run()["due"] == 1
    steps_all(aws)
    ended = enrollment(contact_id, "welcome")
    assert (ended.state, ended.end_reason) == (EnrollmentState.EXITED, "flow_removed")
    frozen_clock.advance(timedelta(days=1))
    assert minute_run()["due"] == 0


def test_keep_version_finishes_on_the_stored_version_and_move_takes_the_new_one(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    kept = {**WELCOME, "id": "kept", "on_change": "keep_version"}
    apply_bundle(_bundle(WELCOME, kept))
    contact_id = submitted_contact(capture, {"email": "versions@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    changed_steps = [*WELCOME["steps"][:2], {"id": "warm", "update": {"add_tags": ["version-two"]}}]
    apply_bundle(_bundle({**WELCOME, "steps": changed_steps}, {**kept, "steps": changed_steps}))
    frozen_clock.advance(timedelta(days=2, minutes=1))
    minute_run()
    steps_all(aws)
    tags = set(profile(admin, contact_id)["tags"])
    assert {"nurtured", "version-two"} <= tags  # kept ran version 1's update, welcome moved to 2
    assert enrollment(contact_id, "kept").flow_version == 1
    moved = enrollment(contact_id, "welcome")
    assert moved.flow_version == 2
    assert any(entry.outcome == "moved" for entry in moved.path)


def test_a_flow_update_that_adds_a_tag_starts_the_flow_that_tag_triggers_once(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    chained = {
        "id": "chained",
        "trigger": {"tag_added": "nurtured"},
        "steps": [{"id": "mark", "update": {"add_tags": ["chained"]}}],
    }
    apply_bundle(_bundle(WELCOME, chained))
    contact_id = submitted_contact(capture, {"email": "chain@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    frozen_clock.advance(timedelta(days=2, minutes=1))
    minute_run()
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    nurture(event)
    nurture(event)  # redelivered: the chained flow is not entered twice
    steps_all(aws)
    started = enrollment(contact_id, "chained")
    assert (started.state, started.entry) == (EnrollmentState.COMPLETED, 1)
    assert {"nurtured", "chained"} <= set(profile(admin, contact_id)["tags"])
