"""The double opt-in confirmation email through the processor on moto: one per submission, never a
second on a redelivery or after a crash, in the contact's history; the pending contact gets
nothing else (a flow the form starts sends no email until they confirm)."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from leadflow.domain.mail.confirmation import confirmation_message_id
from leadflow.settings import get_settings
from leadflow.store import dynamo
from leadflow.store import enrollments as enrollments_store
from tests.integration.test_nurture_runner import _bundle, steps_all
from tests.support import functions, queues
from tests.support.events import LambdaContext
from tests.support.forms import submitted_contact
from tests.support.mail import ready_to_send, sent_messages

WELCOME = {
    "id": "welcome",
    "trigger": {"form_submitted": "webinar-signup"},
    "steps": [{"id": "hello", "send_email": {"template": "t1"}}, {"id": "pause", "wait": "2d"}],
}


@pytest.fixture(autouse=True)
def _can_send(aws, monkeypatch) -> None:
    ready_to_send(monkeypatch)


def _double_opt_in(*flows: dict[str, Any]) -> dict[str, Any]:
    bundle = _bundle(*flows)
    for form in bundle["forms"]:
        if form["id"] == "webinar-signup":
            form["double_opt_in"] = True
    return bundle


def process(event: dict[str, Any]) -> dict[str, Any]:
    return functions.load("process").lambda_handler(event, LambdaContext(function_name="process"))


def _submit(capture, address: str = "pending@example.com") -> str:
    return submitted_contact(capture, {"email": address, "consent": True})


def _claims(contact_id: str, kind: str = "confirmation") -> list[dict[str, Any]]:
    rows = boto3.client("dynamodb").query(
        TableName=get_settings().contacts_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
        ExpressionAttributeValues={":pk": {"S": f"CONTACT#{contact_id}"}, ":e": {"S": "EFFECT#"}},
        ConsistentRead=True,
    )["Items"]
    return [row for row in map(dynamo.deserialize, rows) if row["kind"] == kind]


def _history(contact_id: str) -> list[dict[str, Any]]:
    from leadflow.store import contacts as contacts_store

    return [
        activity.model_dump(mode="json")
        for activity in contacts_store.recent_activities(contact_id, limit=50)
        if activity.type == "email_sent"
    ]


def _confirmations() -> list[Any]:
    found = []
    for message in sent_messages():
        parsed = email.message_from_string(message.raw_data, policy=policy.default)  # type: ignore[arg-type]
        if parsed["X-Leadflow-Kind"] == "confirmation":
            found.append(parsed)
    return found


def test_a_double_opt_in_submission_sends_one_confirmation_and_a_redelivery_none(
    aws, apply_bundle, capture
) -> None:
    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])
    assert process(event) == {"batchItemFailures": []}
    assert process(event) == {"batchItemFailures": []}  # SQS delivered it again
    (sent,) = _confirmations()
    assert sent["To"] == "pending@example.com"
    assert "/v1/confirm/" in sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "List-Unsubscribe" not in sent
    (claim,) = _claims(contact_id)
    assert (claim["status"], claim["result"]) == ("done", "sent")
    (history,) = _history(contact_id)
    assert history["properties"]["kind"] == "confirmation"
    assert history["properties"]["result"] == "sent"
    assert history["activity_id"] == claim["sk"].removeprefix("EFFECT#")


def test_each_submission_gets_its_own_confirmation(aws, apply_bundle, capture) -> None:
    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    _submit(capture)  # they did not find the first email and asked again
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert len(_confirmations()) == 2
    assert len(_claims(contact_id)) == 2


def test_a_single_opt_in_form_sends_no_confirmation(aws, apply_bundle, capture) -> None:
    apply_bundle(_bundle())
    contact_id = _submit(capture)
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert _confirmations() == []
    assert _claims(contact_id) == []


def test_the_pending_contact_gets_only_the_confirmation_not_the_flow_email(
    aws, apply_bundle, capture
) -> None:
    apply_bundle(_double_opt_in(WELCOME))
    contact_id = _submit(capture)
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    steps_all(aws)
    assert len(sent_messages()) == 1
    assert len(_confirmations()) == 1
    assert [row.get("result") for row in _claims(contact_id, "send_email")] in ([], ["suppressed"])


def test_throttling_before_the_send_is_retried_by_the_redelivery_and_sends_once(
    aws, apply_bundle, capture, monkeypatch
) -> None:
    from leadflow.adapters import ses

    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])
    real = ses.send_raw

    def throttled(raw: bytes, **kwargs: Any) -> str:
        raise ses.RetryableSendError("SES is throttling", code="TooManyRequestsException")

    monkeypatch.setattr(ses, "send_raw", throttled)
    with pytest.raises(BatchProcessingError):
        process(event)
    (claim,) = _claims(contact_id)
    assert claim["status"] == "claimed"
    monkeypatch.setattr(ses, "send_raw", real)
    assert process(event) == {"batchItemFailures": []}
    assert len(_confirmations()) == 1
    assert _claims(contact_id)[0]["result"] == "sent"


def test_a_crash_after_the_commit_before_the_send_is_sent_by_the_redelivery(
    aws, apply_bundle, capture, monkeypatch
) -> None:
    from leadflow.services.nurture import confirming

    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])
    real = confirming.send
    calls = {"n": 0}

    def die_once(bundle: Any, activity: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the processor died after its transaction")
        return real(bundle, activity)

    monkeypatch.setattr(confirming, "send", die_once)
    with pytest.raises(BatchProcessingError):
        process(event)
    assert _confirmations() == []
    assert _claims(contact_id)[0]["status"] == "claimed"
    assert process(event) == {"batchItemFailures": []}
    assert len(_confirmations()) == 1


def test_a_crash_after_ses_accepted_is_never_sent_again(aws, apply_bundle, capture, monkeypatch) -> None:
    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])
    real = enrollments_store.done_with_history

    def die(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the processor died after SES accepted")

    monkeypatch.setattr(enrollments_store, "done_with_history", die)
    with pytest.raises(BatchProcessingError):
        process(event)
    assert len(_confirmations()) == 1
    assert _claims(contact_id)[0]["status"] == "sending"
    monkeypatch.setattr(enrollments_store, "done_with_history", real)
    assert process(event) == {"batchItemFailures": []}
    assert len(_confirmations()) == 1
    (claim,) = _claims(contact_id)
    assert (claim["status"], claim["result"]) == ("done", "unknown")


def test_a_contact_who_confirmed_before_the_send_gets_no_confirmation(
    aws, apply_bundle, capture, monkeypatch
) -> None:
    from leadflow.services.nurture import confirming
    from leadflow.store import contacts as contacts_store

    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    real = contacts_store.get_contact

    def already_unsubscribed(contact: str, **kwargs: Any) -> Any:
        found = real(contact, **kwargs)
        return found.model_copy(update={"status": "unsubscribed"}) if found is not None else None

    monkeypatch.setattr(confirming.contacts_store, "get_contact", already_unsubscribed)
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert _confirmations() == []
    (claim,) = _claims(contact_id)
    assert (claim["status"], claim["result"]) == ("done", "suppressed")


def test_the_message_id_is_the_submissions(aws, apply_bundle, capture) -> None:
    apply_bundle(_double_opt_in())
    contact_id = _submit(capture)
    event, records = queues.receive_event(aws.queues["ActivityQueue"])
    process(event)
    import json

    activity = json.loads(records[0]["Body"])
    (claim,) = _claims(contact_id)
    expected = confirmation_message_id(contact_id, "webinar-signup", activity["activity_id"])
    assert claim["sk"] == f"EFFECT#{expected}"


def test_templates_without_from_are_refused_at_apply_when_the_deployment_has_no_sender(
    aws, admin, monkeypatch
) -> None:
    from leadflow.settings import reset_settings
    from tests.support.events import json_body

    monkeypatch.setenv("EMAIL_SENDER", "")
    reset_settings()
    bundle = _bundle()
    bundle["email_templates"].insert(
        1, {"id": "signed", "subject": "Hi", "html": "<p>Hi</p>", "from": "a@example.com"}
    )
    import json

    reply = admin(
        "PUT",
        "/v1/admin/definitions",
        iam=True,
        body=json.dumps(bundle),
        headers={"content-type": "application/json"},
    )
    assert reply["statusCode"] == 422, reply["body"]
    fields = json_body(reply)["error"]["fields"]
    assert set(fields) == {"email_templates[0].from", "email_templates[2].from"}
    assert "EmailSender" in fields["email_templates[0].from"]
    # with a default sender the same bundle is fine
    monkeypatch.setenv("EMAIL_SENDER", "news@example.com")
    reset_settings()
    again = admin(
        "PUT",
        "/v1/admin/definitions",
        iam=True,
        body=json.dumps(bundle),
        headers={"content-type": "application/json"},
    )
    assert again["statusCode"] == 200, again["body"]
