"""Re-driving and ending an enrollment by hand, through the admin handler on moto: the answers,
404/409/422, and that neither skips a wait nor repeats an effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.test_nurture_runner import (
    WELCOME,
    _bundle,
    claims,
    enrollment,
    minute_run,
    nurture,
    process_all,
    steps_all,
)
from tests.support import queues
from tests.support.events import json_body
from tests.support.forms import submitted_contact
from tests.support.mail import ready_to_send, sent_messages


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


def _waiting(aws, apply_bundle, capture) -> str:
    apply_bundle(_bundle(WELCOME))
    contact_id = submitted_contact(capture, {"email": "hand@example.com", "consent": True})
    process_all(aws)
    steps_all(aws)
    assert enrollment(contact_id, "welcome").step_id == "pause"
    return contact_id


def _post(admin, contact_id: str, flow_id: str, what: str) -> dict[str, Any]:
    return admin(
        "POST",
        f"/v1/admin/contacts/{contact_id}/enrollments/{flow_id}/{what}",
        iam=True,
        path_parameters={"proxy": f"contacts/{contact_id}/enrollments/{flow_id}/{what}"},
    )


def test_ending_an_enrollment_answers_it_ended_and_nothing_more_runs(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    contact_id = _waiting(aws, apply_bundle, capture)
    reply = _post(admin, contact_id, "welcome", "end")
    assert reply["statusCode"] == 200, reply["body"]
    body = json_body(reply)
    assert (body["state"], body["end_reason"]) == ("exited", "ended_by_admin")
    assert body["path"][-1]["outcome"] == "ended"
    assert enrollment(contact_id, "welcome").end_reason == "ended_by_admin"
    assert [row["status"] for row in claims(contact_id) if row["kind"] == "ended"] == ["done"]
    # the wait would have ended in two days: nothing is due, nothing more happens
    frozen_clock.advance(timedelta(days=3))
    assert minute_run()["due"] == 0
    # ending it again is a conflict, and so is re-driving it
    again = _post(admin, contact_id, "welcome", "end")
    assert again["statusCode"] == 409
    assert json_body(again)["error"]["code"] == "conflict"
    assert _post(admin, contact_id, "welcome", "redrive")["statusCode"] == 409
    # the contact view shows it over
    view = json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))
    assert view["enrollments"][0]["end_reason"] == "ended_by_admin"


def test_a_redrive_sends_the_enrollment_to_the_step_queue_and_never_skips_a_wait(
    aws, apply_bundle, capture, admin, frozen_clock
) -> None:
    contact_id = _waiting(aws, apply_bundle, capture)
    before = enrollment(contact_id, "welcome")
    reply = _post(admin, contact_id, "welcome", "redrive")
    assert reply["statusCode"] == 200, reply["body"]
    assert json_body(reply)["step"] == "pause"
    event, _ = queues.receive_event(aws.queues["StepQueue"])
    (message,) = [record["body"] for record in event["Records"]]
    assert f'"contact_id":"{contact_id}"' in message
    assert nurture(event) == {"batchItemFailures": []}  # the worker ran it: not due yet
    after = enrollment(contact_id, "welcome")
    assert (after.step_id, after.revision) == (before.step_id, before.revision)  # the wait stays
    # once the wait is over, a re-drive runs it (as the watchdog would), each effect once
    frozen_clock.advance(timedelta(days=2, minutes=1))
    assert _post(admin, contact_id, "welcome", "redrive")["statusCode"] == 200
    assert _post(admin, contact_id, "welcome", "redrive")["statusCode"] == 200
    steps_all(aws)
    assert enrollment(contact_id, "welcome").state.value == "completed"
    assert len(sent_messages()) == 1
    kinds = [row["kind"] for row in claims(contact_id)]
    assert kinds.count("update_contact") == 1


@pytest.mark.parametrize("what", ["end", "redrive"])
def test_unknown_contact_or_enrollment_is_404(aws, apply_bundle, capture, admin, what: str) -> None:
    apply_bundle(_bundle(WELCOME))
    missing = _post(admin, "c_nobody", "welcome", what)
    assert missing["statusCode"] == 404
    assert "no contact" in json_body(missing)["error"]["message"]
    contact_id = submitted_contact(capture, {"email": "none@example.com", "consent": True})
    not_enrolled = _post(admin, contact_id, "another-flow", what)
    assert not_enrolled["statusCode"] == 404
    assert json_body(not_enrolled)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("contact_id", "flow_id"),
    [("c" * 65, "welcome"), ("c_1", "Not A Flow"), ("c_1", "f" * 65), ("c_1", "a%00b")],
)
def test_ids_that_cannot_exist_are_422_not_500(
    aws, apply_bundle, admin, contact_id: str, flow_id: str
) -> None:
    apply_bundle(_bundle(WELCOME))
    reply = _post(admin, contact_id, flow_id, "end")
    assert reply["statusCode"] == 422, reply["body"]
    assert json_body(reply)["error"]["code"] == "validation_failed"
