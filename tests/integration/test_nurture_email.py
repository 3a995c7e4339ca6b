"""A flow's send_email step through the real composer and SES (moto): one raw message with the
unsubscribe headers and the Leadflow ids, never a second one on a replay or after a crash between
SES accepting and the claim turning done; suppressed contacts get nothing; SES refusals fail the step."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import pytest

from leadflow.domain.nurture.enrollment import EnrollmentState
from leadflow.store import enrollments as enrollments_store
from tests.integration.test_nurture_runner import (
    _bundle,
    claims,
    enrollment,
    nurture,
    process_all,
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


@pytest.fixture
def mail(aws, monkeypatch) -> None:
    ready_to_send(monkeypatch)


@pytest.fixture
def frozen_clock():
    from leadflow import clock

    adjustable = clock.AdjustableClock(speed=1e-9)
    previous = clock.install(adjustable)
    yield adjustable
    clock.install(previous)


def _enrolled(capture, aws, address: str, **fields: Any) -> str:
    contact_id = submitted_contact(capture, {"email": address, "consent": True, **fields})
    process_all(aws)
    return contact_id


def _email_claim(contact_id: str) -> dict[str, Any]:
    (row,) = [row for row in claims(contact_id) if row["kind"] == "send_email"]
    return row


def test_the_step_sends_one_raw_message_and_a_replay_sends_nothing_more(
    aws, apply_bundle, capture, mail, frozen_clock, monkeypatch
) -> None:
    from leadflow.adapters import ses

    apply_bundle(_bundle(FLOW))
    real = ses.send_raw
    tags_sent: list[dict[str, str]] = []

    def spy(raw: bytes, **kwargs: Any) -> str:
        tags_sent.append(kwargs["tags"])
        return real(raw, **kwargs)

    monkeypatch.setattr(ses, "send_raw", spy)
    contact_id = _enrolled(capture, aws, "lead@example.org")
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    assert nurture(event) == {"batchItemFailures": []}
    assert nurture(event) == {"batchItemFailures": []}  # SQS delivered it again
    (stored,) = sent_messages()
    claim = _email_claim(contact_id)
    assert (claim["status"], claim["result"]) == ("done", "sent")
    effect_id = claim["sk"].removeprefix("EFFECT#")
    parsed = email.message_from_string(stored.raw_data, policy=policy.default)
    assert parsed["To"] == "lead@example.org"
    assert parsed["Subject"] == "Welcome"
    assert parsed["List-Unsubscribe"].startswith("<https://api.example.com/v1/")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["X-Leadflow-Message-Id"] == effect_id
    assert parsed["X-Leadflow-Contact-Id"] == contact_id
    assert parsed["X-Leadflow-Flow-Id"] == "welcome"
    assert parsed["X-Leadflow-Step-Id"] == "hello"
    assert tags_sent == [
        {
            "leadflow_contact": contact_id,
            "leadflow_message": effect_id,
            "leadflow_flow": "welcome",
            "leadflow_step": "hello",
        }
    ]
    assert enrollment(contact_id, "welcome").step_id == "pause"


def test_a_crash_after_ses_accepted_is_not_sent_again_and_is_recorded_unknown(
    aws, apply_bundle, capture, mail, frozen_clock, monkeypatch, capsys
) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    apply_bundle(_bundle(FLOW))
    contact_id = _enrolled(capture, aws, "crash@example.org")
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    real = enrollments_store.mark_done

    def crash_on_the_email(contact: str, effect: str, now: Any, **facts: Any) -> bool:
        if facts.get("result") == "sent":
            raise RuntimeError("the worker died after SES accepted")
        return real(contact, effect, now, **facts)

    monkeypatch.setattr(enrollments_store, "mark_done", crash_on_the_email)
    with pytest.raises(BatchProcessingError):
        nurture(event)
    assert len(sent_messages()) == 1
    assert _email_claim(contact_id)["status"] == "sending"
    capsys.readouterr()
    assert nurture(event) == {"batchItemFailures": []}  # the redelivery
    assert len(sent_messages()) == 1
    claim = _email_claim(contact_id)
    assert (claim["status"], claim["result"]) == ("done", "unknown")
    assert "EmailSendOutcomeUnknown" in capsys.readouterr().out
    assert enrollment(contact_id, "welcome").step_id == "pause"


def test_an_unsubscribed_contact_gets_nothing(aws, apply_bundle, capture, mail, frozen_clock) -> None:
    from leadflow import clock
    from leadflow.store import contacts as contacts_store

    apply_bundle(_bundle(FLOW))
    contact_id = _enrolled(capture, aws, "gone@example.org")
    assert contacts_store.suppress(
        contact_id, expected="subscribed", status="unsubscribed", reason={"by": "test"}, now=clock.now()
    )
    queues.drain(lambda event, context: nurture(event), aws.queues["StepQueue"])
    assert sent_messages() == []
    assert not [row for row in claims(contact_id) if row["kind"] == "send_email"]
    # the engine ends the enrollment with the reason before the email step
    ended = enrollment(contact_id, "welcome")
    assert ended.state is EnrollmentState.EXITED
    assert ended.end_reason


def test_a_contact_unsubscribed_between_the_advance_and_the_send_is_suppressed(
    aws, apply_bundle, capture, mail, frozen_clock, monkeypatch
) -> None:
    from leadflow.services.nurture import effects
    from leadflow.store import contacts as contacts_store

    apply_bundle(_bundle(FLOW))
    contact_id = _enrolled(capture, aws, "late@example.org")
    real = effects._one

    def unsubscribe_first(bundle, enrollment, effect, now):
        if effect.kind == "send_email":
            assert contacts_store.suppress(
                contact_id, expected="subscribed", status="unsubscribed", reason={"by": "test"}, now=now
            )
        return real(bundle, enrollment, effect, now)

    monkeypatch.setattr(effects, "_one", unsubscribe_first)
    queues.drain(lambda event, context: nurture(event), aws.queues["StepQueue"])
    assert sent_messages() == []
    claim = _email_claim(contact_id)
    assert (claim["status"], claim["result"]) == ("done", "suppressed")


def test_an_unverified_sender_fails_the_step_with_the_reason(
    aws, apply_bundle, capture, mail, frozen_clock
) -> None:
    bundle = _bundle(FLOW)
    bundle["email_templates"] = [
        {"id": "t1", "subject": "Hi", "html": "<p>x</p>", "from": "a@unverified.test"}
    ]
    apply_bundle(bundle)
    contact_id = _enrolled(capture, aws, "lead@example.org")
    queues.drain(lambda event, context: nurture(event), aws.queues["StepQueue"])
    assert sent_messages() == []
    claim = _email_claim(contact_id)
    assert claim["status"] == "done"
    assert "SES refused the message" in claim["rejected"]
    failed = enrollment(contact_id, "welcome")
    assert failed.state is EnrollmentState.FAILED


def test_throttling_releases_the_claim_and_the_retry_sends_once(
    aws, apply_bundle, capture, mail, frozen_clock, monkeypatch
) -> None:
    from leadflow.adapters import ses

    apply_bundle(_bundle(FLOW))
    contact_id = _enrolled(capture, aws, "slow@example.org")
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    real = ses.send_raw

    def throttled(raw: bytes, **kwargs: Any) -> str:
        raise ses.RetryableSendError("SES is throttling", code="TooManyRequestsException")

    monkeypatch.setattr(ses, "send_raw", throttled)
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        nurture(event)
    assert _email_claim(contact_id)["status"] == "claimed"
    monkeypatch.setattr(ses, "send_raw", real)
    assert nurture(event) == {"batchItemFailures": []}
    assert len(sent_messages()) == 1
    assert _email_claim(contact_id)["result"] == "sent"
