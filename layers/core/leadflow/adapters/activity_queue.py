"""The SQS activity queue: how capture and tracking hand activities to the processor."""

from __future__ import annotations

from collections.abc import Sequence

from leadflow import aws
from leadflow.domain.activities import Activity
from leadflow.settings import get_settings

_BATCH = 10


class EnqueueFailed(RuntimeError):
    def __init__(self, failed_ids: list[str]) -> None:
        super().__init__(f"{len(failed_ids)} activities were not enqueued")
        self.failed_ids = failed_ids


def send(activity: Activity) -> None:
    aws.client("sqs").send_message(
        QueueUrl=get_settings().activity_queue_url, MessageBody=activity.to_message()
    )


def send_many(activities: Sequence[Activity]) -> None:
    """SendMessageBatch in chunks of ten; raises EnqueueFailed naming what did not go."""
    failed: list[str] = []
    queue_url = get_settings().activity_queue_url
    for start in range(0, len(activities), _BATCH):
        chunk = activities[start : start + _BATCH]
        response = aws.client("sqs").send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "MessageBody": item.to_message()} for index, item in enumerate(chunk)
            ],
        )
        failed += [chunk[int(entry["Id"])].activity_id for entry in response.get("Failed", [])]
    if failed:
        raise EnqueueFailed(failed)
