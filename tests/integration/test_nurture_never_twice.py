"""Never twice, never stuck, for a flow's email step: concurrent workers racing on one enrollment
(a barrier makes them meet at the worst moment) send one email; a crash injected at each point of
the step is recovered without a second send, by the redelivered message or, when that message is
lost, by the minute run within minutes. The clock is moved by hand (no test sleeps)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from leadflow.adapters.step_queue import StepMessage
from leadflow.domain.nurture.enrollment import EnrollmentState
from leadflow.services.nurture import worker
from leadflow.store import enrollments as enrollments_store
from tests.integration.test_nurture_runner import (
    _bundle,
    claims,
    enrollment,
    minute_run,
    nurture,
    process_all,
    steps_all,
)
from tests.support import queues
from tests.support.forms import submitted_contact
from tests.support.mail import ready_to_send, sent_messages

FLOW = {
    "id": "welcome",
    "trigger": {"form_submitted": "webinar-signup"},
    "steps": [
        {"id": "hello", "send_email": {"template": "t1"}},
        {"id": "pause", "wait": "2d"},
    ],
}


@pytest.fixture(autouse=True)
def _can_send(aws, monkeypatch) -> None:
    ready_to_send(monkeypatch)


@pytest.fixture
def frozen_clock():
    from leadflow import clock

    adjustable = clock.AdjustableClock(speed=1e-9)
    previous = clock.install(adjustable)
    yield adjustable
    clock.install(previous)


def _enrolled(aws, apply_bundle, capture) -> str:
    apply_bundle(_bundle(FLOW))
    contact_id = submitted_contact(capture, {"email": "twice@example.com", "consent": True})
    process_all(aws)
    return contact_id


def _email_claim(contact_id: str) -> dict[str, Any]:
    (row,) = [row for row in claims(contact_id) if row["kind"] == "send_email"]
    return row


def _once(
    target: Any, name: str, monkeypatch: pytest.MonkeyPatch, when: Callable[..., bool] | None = None
) -> None:
    """Make ``target.name`` raise the first time it is called (and ``when`` holds): the process dies."""
    real = getattr(target, name)
    state = {"crashed": False}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        if not state["crashed"] and (when is None or when(*args, **kwargs)):
            state["crashed"] = True
            raise RuntimeError(f"the worker died in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


def _crash_before_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    _once(enrollments_store, "save", monkeypatch)


def _crash_after_claim_before_ses(monkeypatch: pytest.MonkeyPatch) -> None:
    _once(enrollments_store, "begin_sending", monkeypatch)


def _crash_mid_send_before_ses(monkeypatch: pytest.MonkeyPatch) -> None:
    from leadflow.adapters import ses

    _once(ses, "send_raw", monkeypatch)


def _crash_after_ses_before_done(monkeypatch: pytest.MonkeyPatch) -> None:
    _once(enrollments_store, "mark_done", monkeypatch, when=lambda *a, **facts: facts.get("result") == "sent")


def _crash_after_done_before_enrollment_write(monkeypatch: pytest.MonkeyPatch) -> None:
    _once(enrollments_store, "clear_pending", monkeypatch)


# (crash, emails sent in the end, the claim's result): the claim turned "sending" before SES was
# called, so a worker dying right then leaves an email that may have gone: at most once means it
# is never sent again, and the claim says "unknown".
CRASHES = [
    pytest.param(_crash_before_claim, 1, "sent", id="before-the-claim"),
    pytest.param(_crash_after_claim_before_ses, 1, "sent", id="after-the-claim-before-ses"),
    pytest.param(_crash_mid_send_before_ses, 0, "unknown", id="marked-sending-before-ses-answered"),
    pytest.param(_crash_after_ses_before_done, 1, "unknown", id="after-ses-before-done"),
    pytest.param(_crash_after_done_before_enrollment_write, 1, "sent", id="after-done-before-the-enrollment"),
]


@pytest.mark.parametrize(("crash", "sends", "result"), CRASHES)
@pytest.mark.parametrize("recovery", ["redelivery", "minute-run"])
def test_a_crash_at_each_point_of_an_email_step_never_sends_twice_and_never_sticks(
    aws, apply_bundle, capture, frozen_clock, monkeypatch, crash, sends: int, result: str, recovery: str
) -> None:
    contact_id = _enrolled(aws, apply_bundle, capture)
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    crash(monkeypatch)
    with pytest.raises(BatchProcessingError):
        nurture(event)
    if recovery == "redelivery":
        assert nurture(event) == {"batchItemFailures": []}
    else:
        # the message is lost for good (a dead-letter queue): the minute run finds the enrollment
        frozen_clock.advance(timedelta(minutes=5, seconds=1))
        assert minute_run()["due"] == 1
        steps_all(aws)
    assert len(sent_messages()) == sends
    claim = _email_claim(contact_id)
    assert (claim["status"], claim["result"]) == ("done", result)
    settled = enrollments_store.get(contact_id, "welcome")
    assert settled is not None
    assert (settled.enrollment.step_id, settled.enrollment.state) == ("pause", EnrollmentState.WAITING)
    assert settled.pending == []
    # more deliveries and runs change nothing; the wait ends on time and the flow completes
    assert nurture(event) == {"batchItemFailures": []}
    frozen_clock.advance(timedelta(minutes=10))
    assert minute_run()["due"] == 0
    frozen_clock.advance(timedelta(days=2))
    assert minute_run()["due"] == 1
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state is EnrollmentState.COMPLETED
    assert len(sent_messages()) == sends


def _run_together(count: int, action: Callable[[], str]) -> list[str]:
    results: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(action())
        except BaseException as error:  # reported below, with the thread's error
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_workers_that_read_the_same_enrollment_send_one_email(
    aws, apply_bundle, capture, frozen_clock, monkeypatch
) -> None:
    contact_id = _enrolled(aws, apply_bundle, capture)
    message = StepMessage(contact_id=contact_id, flow_id="welcome", reason="due", revision=0)
    barrier = threading.Barrier(2, timeout=30)
    real_get = enrollments_store.get

    def read_then_meet(*args: Any, **kwargs: Any) -> Any:
        stored = real_get(*args, **kwargs)
        barrier.wait()  # both have read revision 0 before either writes
        return stored

    monkeypatch.setattr(enrollments_store, "get", read_then_meet)
    results = _run_together(2, lambda: worker.step(message))
    assert sorted(results) == ["advanced", "raced"]
    assert len(sent_messages()) == 1
    assert _email_claim(contact_id)["result"] == "sent"


def test_two_workers_finishing_the_same_pending_email_send_it_once(
    aws, apply_bundle, capture, frozen_clock, monkeypatch
) -> None:
    """A worker died after the commit; two redeliveries run at once and both reach the send."""
    contact_id = _enrolled(aws, apply_bundle, capture)
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    _crash_after_claim_before_ses(monkeypatch)
    with pytest.raises(BatchProcessingError):
        nurture(event)
    assert _email_claim(contact_id)["status"] == "claimed"
    barrier = threading.Barrier(2, timeout=30)
    real_begin = enrollments_store.begin_sending

    def meet_then_claim(*args: Any, **kwargs: Any) -> bool:
        barrier.wait()  # both composed the email and are about to claim it for sending
        return real_begin(*args, **kwargs)

    monkeypatch.setattr(enrollments_store, "begin_sending", meet_then_claim)
    message = StepMessage(contact_id=contact_id, flow_id="welcome", reason="enrolled", revision=1)
    _run_together(2, lambda: worker.step(message))
    assert len(sent_messages()) == 1
    assert _email_claim(contact_id)["status"] == "done"
    assert enrollments_store.get(contact_id, "welcome").pending == []  # type: ignore[union-attr]
