"""The SQS sync queue (membership changes for the connectors) and its dead-letter queue.

The bus rule puts each ``CrmCampaignMember*`` event on the queue as EventBridge delivers it (the
event's JSON); re-sends (new credentials, a replay) put the same shape back, so the worker reads
one kind of message. Retries are the worker's visibility timeouts; failures that a retry cannot
fix, and retries that ran out, wait in the dead-letter queue until ``connectors replay``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from leadflow import aws
from leadflow.settings import get_settings

_BATCH = 10
MAX_VISIBILITY_SECONDS = 43_200  # SQS's limit: 12 hours


class EnqueueFailed(RuntimeError):
    pass


def send_many(bodies: Sequence[dict[str, Any]], *, queue_url: str | None = None) -> None:
    """SendMessageBatch in chunks of ten to the sync queue (or ``queue_url``)."""
    url = queue_url or get_settings().sync_queue_url
    failed = 0
    for start in range(0, len(bodies), _BATCH):
        chunk = bodies[start : start + _BATCH]
        response = aws.client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(index), "MessageBody": json.dumps(body)} for index, body in enumerate(chunk)],
        )
        failed += len(response.get("Failed", []))
    if failed:
        raise EnqueueFailed(f"{failed} sync messages were not enqueued")


def dead_letter(body: str, *, reason: str) -> None:
    """Parks a message a retry cannot fix in the dead-letter queue, with the reason as an attribute."""
    aws.client("sqs").send_message(
        QueueUrl=get_settings().sync_dead_letter_queue_url,
        MessageBody=body,
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
    )


def retry_later(receipt_handle: str, seconds: int) -> None:
    """The message comes back after ``seconds`` (bounded by SQS's 12 hours) instead of the queue default."""
    aws.client("sqs").change_message_visibility(
        QueueUrl=get_settings().sync_queue_url,
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(int(seconds), MAX_VISIBILITY_SECONDS)),
    )


def dead_letter_depth() -> int:
    """Messages waiting in the dead-letter queue (SQS's approximate counts, visible + in flight)."""
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=get_settings().sync_dead_letter_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


@dataclass(frozen=True, slots=True)
class Replayed:
    replayed: int
    kept: int  # received but for another connector (left in the dead-letter queue)


def replay(belongs: Callable[[str], bool], *, limit: int) -> Replayed:
    """Moves up to ``limit`` dead letters for which ``belongs(body)`` holds back to the sync queue.

    Each is sent before it is deleted, so a failure in between replays it twice (the worker is
    idempotent), never zero times. Others are made visible again at once.
    """
    sqs = aws.client("sqs")
    settings = get_settings()
    replayed = kept = 0
    seen: set[str] = set()
    while replayed < limit:
        response = sqs.receive_message(
            QueueUrl=settings.sync_dead_letter_queue_url,
            MaxNumberOfMessages=min(_BATCH, limit - replayed),
            VisibilityTimeout=30,
            WaitTimeSeconds=0,
        )
        messages = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not messages:
            break
        for message in messages:
            seen.add(message["MessageId"])
            if belongs(message["Body"]):
                sqs.send_message(QueueUrl=settings.sync_queue_url, MessageBody=message["Body"])
                sqs.delete_message(
                    QueueUrl=settings.sync_dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                replayed += 1
            else:
                sqs.change_message_visibility(
                    QueueUrl=settings.sync_dead_letter_queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
                kept += 1
    return Replayed(replayed=replayed, kept=kept)
