"""Sending through Amazon SES v2: the raw MIME that ``domain/mail`` built, in the configuration set.

``Content.Raw`` rather than ``Content.Simple``: only raw content carries every header we set
(``List-Unsubscribe``, ``List-Unsubscribe-Post``, ``Message-ID``, the ``X-Leadflow-*`` ids), in
AWS and in moto alike. The client makes one attempt per call (``aws.single_attempt_client``):
botocore's automatic retry of a timed-out send could deliver it twice, so the caller decides.

Failures come in two kinds, for the flow's policy:

- :class:`RetryableSendError`: throttling, a sending quota reached, SES paused or failing (5xx),
  no connection. Retry later. ``ambiguous`` is set when the request may have reached SES (a
  read timeout, a dropped connection): the caller must check its own send record before a retry.
- :class:`PermanentSendError`: SES refused this message (``MessageRejected``, an unverified
  sender, a bad request). Record the step as failed with ``reason``; a retry fails the same way.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
)

from leadflow import aws
from leadflow.settings import get_settings

_RETRYABLE_CODES = {
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "LimitExceededException",  # a sending quota: it refills
    # Account- or deployment-wide, not this message's fault: failing every step for it would end
    # every enrollment, so these wait (and reach the dead-letter queue) until someone fixes it.
    "SendingPausedException",
    "AccountSuspendedException",
    "NotFoundException",  # the configuration set is missing
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
}
_AMBIGUOUS = (ReadTimeoutError, ConnectionClosedError)


class SendError(RuntimeError):
    """A send that did not succeed; ``reason`` is for the step's record."""

    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryableSendError(SendError):
    def __init__(self, reason: str, *, code: str = "", ambiguous: bool = False) -> None:
        super().__init__(reason, code=code)
        self.ambiguous = ambiguous


class PermanentSendError(SendError):
    pass


def classify(error: ClientError) -> SendError:
    """Which kind of failure an SES error answer is."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")) or code
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _RETRYABLE_CODES or status >= 500:
        return RetryableSendError(f"SES is unavailable or throttling ({code}): {message}", code=code)
    return PermanentSendError(f"SES refused the message ({code}): {message}", code=code)


def send_raw(raw: bytes, *, to: str, sender: str, tags: dict[str, str] | None = None) -> str:
    """Sends one raw message to ``to``; returns SES's message id. Raises a :class:`SendError`."""
    settings = get_settings()
    request: dict[str, Any] = {
        "FromEmailAddress": parseaddr(sender)[1] or sender,
        "Destination": {"ToAddresses": [to]},
        "Content": {"Raw": {"Data": raw}},
    }
    if settings.ses_configuration_set:
        request["ConfigurationSetName"] = settings.ses_configuration_set
    if tags:
        request["EmailTags"] = [{"Name": name, "Value": value} for name, value in sorted(tags.items())]
    try:
        response = aws.single_attempt_client("sesv2").send_email(**request)
    except ClientError as error:
        raise classify(error) from error
    except _AMBIGUOUS as error:
        raise RetryableSendError(
            f"no answer from SES ({type(error).__name__}); the message may have been sent", ambiguous=True
        ) from error
    except BotoCoreError as error:
        raise RetryableSendError(f"SES could not be reached ({type(error).__name__})") from error
    return str(response["MessageId"])
