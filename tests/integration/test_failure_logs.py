"""A failing queue message is logged by its ids, never by its body: bodies hold personal data.

Each test makes a record fail while its body carries an email address and a name, then reads
everything the failure produced (stdout, where Powertools logs, stderr, the logging records,
the exception Lambda would report) and finds the ids but not one byte of the personal data.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from leadflow.domain.activities import Activity
from leadflow.observability import RedactedError, logger
from tests.support import functions, queues
from tests.support.events import LambdaContext

EMAIL = "private.person@example.org"
NAME = "Zelda Quixote-Personal"


def _activity_body(**overrides: Any) -> str:
    activity: dict[str, Any] = {
        "activity_id": "act_0123456789abcdefghjkmnpq",
        "type": "custom",
        "occurred_at": datetime(2026, 1, 2, tzinfo=UTC).isoformat(),
        "contact_id": "c_0000000000000000000000000",
        "properties": {"email": EMAIL, "name": NAME},
    }
    return json.dumps({**activity, **overrides})


def _send(aws: Any, body: str) -> None:
    boto3.client("sqs").send_message(QueueUrl=aws.queues["ActivityQueue"], MessageBody=body)


@pytest.fixture
def printed(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, monkeypatch) -> Any:
    """Everything a failure printed since the call: the Powertools JSON log (its handler keeps the
    stdout it was made with, so it is pointed at a buffer), stdout, stderr and logging records."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    caplog.clear()

    def read() -> str:
        out, err = capfd.readouterr()
        return "\n".join([buffer.getvalue(), out, err, caplog.text])

    return read


def _assert_private_data_absent(text: str) -> None:
    for secret in (EMAIL, "private.person", NAME, "Quixote"):
        assert secret not in text


def _listen(caplog: pytest.LogCaptureFixture) -> None:
    """INFO everywhere, as Lambda's JSON log format defaults to, and Powertools' own DEBUG lines
    (the batch processor logs each failure there). botocore's DEBUG wire log is left out: it
    prints every request, bodies and all, by design."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools")


@pytest.fixture
def process() -> Any:
    return functions.load("process").lambda_handler


def test_an_unreadable_body_is_logged_by_message_id_and_its_neighbours_are_applied(
    aws, bundle_applied, process, printed, caplog
):
    _listen(caplog)
    _send(aws, _activity_body(occurred_at=EMAIL))  # pydantic's error would quote this value
    _send(aws, _activity_body(activity_id="act_other", contact_id=None, anonymous_id="v_1"))
    event, messages = queues.receive_event(aws.queues["ActivityQueue"])
    bad = next(
        message["MessageId"] for message in messages if EMAIL in json.loads(message["Body"])["occurred_at"]
    )

    reply = process(event, LambdaContext(function_name="process"))

    assert reply == {"batchItemFailures": [{"itemIdentifier": bad}]}
    output = printed()
    _assert_private_data_absent(output)
    failure = next(json.loads(line) for line in output.splitlines() if line.startswith("{") and bad in line)
    assert failure["message_id"] == bad
    assert failure["invalid"] == [{"at": "occurred_at", "type": "datetime_from_date_parsing"}]


def test_a_failure_whose_text_quotes_the_body_is_logged_by_activity_id(
    aws, bundle_applied, process, printed, caplog, monkeypatch
):
    from leadflow.services import processor

    def quoting(activity: Activity) -> str:
        raise ValueError(f"cannot apply {activity.properties}")  # as a careless message would

    monkeypatch.setattr(processor, "handle", quoting)
    _listen(caplog)
    _send(aws, _activity_body())
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])

    # Every record failed: Powertools raises, and Lambda would log the exception's text.
    with pytest.raises(BatchProcessingError) as raised:
        process(event, LambdaContext(function_name="process"))

    output = printed() + str(raised.value)
    _assert_private_data_absent(output)
    assert "act_0123456789abcdefghjkmnpq" in str(raised.value)
    assert "ValueError" in str(raised.value)


def test_an_unknown_key_is_not_logged_as_a_field_path(aws, bundle_applied, process, printed, caplog):
    _listen(caplog)
    _send(aws, json.dumps({**json.loads(_activity_body()), EMAIL: NAME}))  # extra="forbid" names the key
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])

    with pytest.raises(BatchProcessingError) as raised:
        process(event, LambdaContext(function_name="process"))

    _assert_private_data_absent(printed() + str(raised.value))


def test_a_failed_housekeeping_run_is_logged_without_its_input(aws, printed, caplog):
    _listen(caplog)
    housekeeping = functions.load("housekeeping").lambda_handler
    event = {
        "id": "0f3e3c4e-9a8b-4c1d-8e2f-000000000001",
        "detail-type": "SegmentRebuildContinued",
        "source": "leadflow",
        "detail": {"segments": EMAIL, "cursor": {"pk": f"EMAIL#{EMAIL}", "name": NAME}},
    }

    with pytest.raises(RedactedError) as raised:
        housekeeping(event, LambdaContext(function_name="housekeeping"))

    output = printed()
    _assert_private_data_absent(output + str(raised.value))
    assert raised.value.facts["event_id"] == event["id"]
    assert "0f3e3c4e-9a8b-4c1d-8e2f-000000000001" in output


def test_an_unexpected_api_fault_answers_internal_and_logs_no_request_text(
    aws, bundle_applied, capture, printed, caplog, monkeypatch
):
    from leadflow.services import capture as capture_service

    def quoting(form_id: str, request: Any) -> Any:
        raise RuntimeError(f"cannot store {request.fields}")  # a careless message quoting the input

    monkeypatch.setattr(capture_service, "submit", quoting)
    _listen(caplog)
    response = capture(
        "POST",
        "/v1/forms/webinar-signup/submissions",
        body=json.dumps({"fields": {"email": EMAIL, "first_name": NAME, "consent": True}}),
        headers={"content-type": "application/json"},
        path_parameters={"form_id": "webinar-signup"},
    )

    assert response["statusCode"] == 500
    error = json.loads(response["body"])["error"]
    assert error["code"] == "internal"
    assert error["request_id"]
    output = printed()
    _assert_private_data_absent(output + response["body"])
    logged = next(json.loads(line) for line in output.splitlines() if '"unexpected error"' in line)
    assert logged["request_id"] == error["request_id"]
    assert logged["error_type"] == "RuntimeError"
