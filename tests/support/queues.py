"""Driving an SQS-triggered handler the way Lambda's event source mapping does.

Receive a batch, call the handler with a real SQS event, delete what succeeded, leave the
reported failures to return after their visibility timeout.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.support.events import LambdaContext


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": message.get("Attributes", {}).get("ApproximateReceiveCount", "1")
        },
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def receive_event(queue_url: str, batch_size: int = 10) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=min(batch_size, 10),
        AttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    return {"Records": [_record(message, arn) for message in messages]}, messages


def deliver(handler: Any, queue_url: str, *, batch_size: int = 10) -> dict[str, Any]:
    """One batch through the handler; deletes the successes, returns the handler's reply."""
    event, messages = receive_event(queue_url, batch_size)
    if not messages:
        return {"batchItemFailures": [], "empty": True}
    reply = handler(event, LambdaContext(function_name="process"))
    failed = {item["itemIdentifier"] for item in reply.get("batchItemFailures", [])}
    sqs = boto3.client("sqs")
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return reply


def drain(handler: Any, queue_url: str, *, rounds: int = 20) -> int:
    """Delivers until no message is visible (failures wait out their visibility timeout, as on
    AWS); returns the number of batches run."""
    for count in range(rounds):
        reply = deliver(handler, queue_url)
        if reply.get("empty"):
            return count
    return rounds


def bus_tap(bus_name: str) -> str:
    """An SQS queue subscribed to every Leadflow event on the bus: what a consumer would see."""
    sqs = boto3.client("sqs")
    events = boto3.client("events")
    url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="tap", EventBusName=bus_name, EventPattern=json.dumps({"source": ["leadflow"]}))
    events.put_targets(Rule="tap", EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": arn}])
    return url


def read_all(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
