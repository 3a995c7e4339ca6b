"""The SES adapter on moto: a composed email sent raw keeps every header; failures are classified."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from leadflow.definitions.templates import EmailTemplate
from leadflow.domain.contacts import Contact
from leadflow.domain.mail.compose import MessageIds, Sending, compose

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
KEY = "k" * 32
SENDER = "Acme News <news@example.com>"


def contact() -> Contact:
    return Contact(
        contact_id="c_01",
        email="ann@example.org",
        email_key="ann@example.org",
        status="subscribed",
        fields={"first_name": "Zoë"},
        created_at=NOW,
        updated_at=NOW,
    )


def composed(**template: Any):
    source = {
        "id": "welcome",
        "subject": "Grüße, {{ first_name }}",
        "html": '<p>Hi <a href="https://www.example.com/start">start</a></p>',
        "from": SENDER,
        "reply_to": "help@example.com",
        **template,
    }
    return compose(
        EmailTemplate.model_validate(source),
        contact(),
        ids=MessageIds("msg_01", "welcome", "intro"),
        sending=Sending("https://api.example.com", KEY, "noreply@example.com", "unsub@example.com"),
        now=NOW,
    )


@pytest.fixture
def ses(aws: object, monkeypatch: pytest.MonkeyPatch) -> Any:
    from leadflow.settings import reset_settings

    client = boto3.client("sesv2")
    client.create_email_identity(EmailIdentity="example.com")
    client.create_configuration_set(ConfigurationSetName="leadflow-email")
    monkeypatch.setenv("SES_CONFIGURATION_SET", "leadflow-email")
    reset_settings()
    return client


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_a_raw_send_keeps_every_header_and_both_parts(ses):
    from leadflow.adapters import ses as adapter

    # Given a composed flow email
    message = composed()
    # When it is sent raw through SES v2
    ses_id = adapter.send_raw(message.raw, to=message.to, sender=message.sender, tags={"flow": "welcome"})
    # Then SES took it, and what it keeps is the whole message, every header intact
    assert ses_id
    [stored] = sent_messages()
    parsed = email.message_from_string(stored.raw_data, policy=policy.default)
    assert parsed["Subject"] == "Grüße, Zoë"
    assert parsed["From"] == SENDER
    assert parsed["To"] == "ann@example.org"
    assert parsed["Reply-To"] == "help@example.com"
    assert parsed["Message-ID"] == "<msg_01@example.com>"
    assert parsed["List-Unsubscribe"] == (
        f"<{message.unsubscribe_url}>, <mailto:unsub@example.com?subject=unsubscribe>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["X-Leadflow-Flow-Id"] == "welcome"
    assert parsed["X-Leadflow-Step-Id"] == "intro"
    assert parsed["X-Leadflow-Message-Id"] == "msg_01"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    assert message.unsubscribe_url in text.get_content()
    assert "/v1/t/c/" in html.get_content()


def test_an_unverified_sender_is_a_permanent_failure_with_the_reason(ses):
    from leadflow.adapters import ses as adapter

    message = composed(**{"from": "news@unverified.example"})
    with pytest.raises(adapter.PermanentSendError) as failure:
        adapter.send_raw(message.raw, to=message.to, sender=message.sender)
    assert failure.value.code == "MessageRejected"
    assert "news@unverified.example" in failure.value.reason
    assert sent_messages() == []


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("TooManyRequestsException", 429, "RetryableSendError"),
        ("LimitExceededException", 400, "RetryableSendError"),
        ("InternalFailure", 500, "RetryableSendError"),
        ("SomethingNew", 503, "RetryableSendError"),
        ("SendingPausedException", 400, "RetryableSendError"),
        ("MessageRejected", 400, "PermanentSendError"),
        ("MailFromDomainNotVerifiedException", 400, "PermanentSendError"),
        ("BadRequestException", 400, "PermanentSendError"),
    ],
)
def test_ses_errors_are_classified(ses, monkeypatch, code: str, status: int, kind: str):
    from leadflow import aws
    from leadflow.adapters import ses as adapter

    client = aws.single_attempt_client("sesv2")
    calls: list[dict[str, Any]] = []

    def refuse(**request: Any) -> Any:
        calls.append(request)
        raise ClientError(
            {"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": status}},
            "SendEmail",
        )

    monkeypatch.setattr(client, "send_email", refuse)
    message = composed()
    with pytest.raises(adapter.SendError) as failure:
        adapter.send_raw(message.raw, to=message.to, sender=message.sender)
    assert type(failure.value).__name__ == kind
    assert failure.value.code == code
    assert calls[0]["ConfigurationSetName"] == "leadflow-email"
    assert calls[0]["FromEmailAddress"] == "news@example.com"


def test_a_timeout_is_retryable_but_flagged_as_maybe_sent(ses, monkeypatch):
    from leadflow import aws
    from leadflow.adapters import ses as adapter

    def time_out(**_: Any) -> Any:
        raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    monkeypatch.setattr(aws.single_attempt_client("sesv2"), "send_email", time_out)
    message = composed()
    with pytest.raises(adapter.RetryableSendError) as failure:
        adapter.send_raw(message.raw, to=message.to, sender=message.sender)
    assert failure.value.ambiguous


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def test_the_send_client_never_retries_by_itself(ses):
    # botocore retries a 5xx three times by default: for a send that could mean three emails
    from botocore.awsrequest import AWSResponse

    from leadflow import aws
    from leadflow.adapters import ses as adapter

    attempts: list[str] = []

    def unavailable(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        return AWSResponse(request.url, 503, {}, _Body(b'{"message": "busy"}'))

    client = aws.single_attempt_client("sesv2")
    client.meta.events.register("before-send.sesv2.SendEmail", unavailable)
    message = composed()
    with pytest.raises(adapter.RetryableSendError):
        adapter.send_raw(message.raw, to=message.to, sender=message.sender)
    assert len(attempts) == 1
