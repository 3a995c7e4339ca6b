"""The local SQS poller prints a failed batch by message id, exception type and frames: never the
exception's text, which may quote a message body (personal data)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import boto3
import pytest

from leadflow_local.activity import ActivityTracker
from leadflow_local.lambda_runtime import LambdaFunction
from leadflow_local.moto_bridge import SqsTimers
from leadflow_local.pollers import SqsEventSourcePoller
from leadflow_local.template import FunctionSpec, SqsTriggerSpec

EMAIL = "private.person@example.org"
ACCOUNT, REGION = "123456789012", "us-east-1"


def _quoting_handler(event: dict, _context: object) -> dict:
    raise ValueError(f"cannot handle {event['Records'][0]['body']}")  # a careless error text


@pytest.fixture
def poller(monkeypatch: pytest.MonkeyPatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="activities")["QueueUrl"]
        spec = FunctionSpec(
            logical_id="ProcessFunction",
            name="process",
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:process",
            code_dir=Path(),
            handler="app.lambda_handler",
            timeout_seconds=30,
            memory_mb=512,
            environment={},
        )
        trigger = SqsTriggerSpec(
            logical_id="ProcessFunctionActivities",
            function="ProcessFunction",
            queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:activities",
            batch_size=10,
            window_seconds=0,
            report_failures=True,
            enabled=True,
        )
        function = LambdaFunction(spec, _quoting_handler, threading.RLock())
        yield (
            sqs,
            url,
            SqsEventSourcePoller(
                trigger,
                function,
                sqs=sqs,
                queue_url=url,
                timers=SqsTimers(ACCOUNT, REGION),
                tracker=ActivityTracker(),
                region=REGION,
            ),
        )


def test_a_raising_handler_is_logged_by_message_id_not_by_its_text(poller, caplog) -> None:
    sqs, url, consumer = poller
    message_id = sqs.send_message(QueueUrl=url, MessageBody=f'{{"email": "{EMAIL}"}}')["MessageId"]
    caplog.set_level(logging.INFO, logger="leadflow_local")

    assert consumer.poll_once() == 1

    assert message_id in caplog.text
    assert "ValueError" in caplog.text
    assert "_quoting_handler" in caplog.text  # the frames are kept, for the developer
    assert EMAIL not in caplog.text
