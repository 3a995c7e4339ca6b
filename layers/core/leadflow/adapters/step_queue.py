"""The SQS step queue: enrollments to advance, from the minute run, the processor's wake-ups and
new enrollments. A message names the enrollment (contact and flow) and the revision it was sent
for; the worker reads the enrollment itself, so a stale or repeated message changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from leadflow import aws
from leadflow.domain.activities import Activity
from leadflow.settings import get_settings

_BATCH = 10

Reason = Literal["due", "overdue", "wake", "enrolled", "continue"]


class StepMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contact_id: str
    flow_id: str
    reason: Reason
    revision: int | None = None
    """The revision the sender saw: a timer message for another revision is stale."""
    wake: Activity | None = None
    """The contact's activity that may end a ``wait_for`` (or meet the flow's goal)."""


class EnqueueFailed(RuntimeError):
    def __init__(self, failed: list[str]) -> None:
        super().__init__(f"{len(failed)} step messages were not enqueued")
        self.failed = failed


def send_many(messages: Sequence[StepMessage]) -> None:
    """SendMessageBatch in chunks of ten; raises EnqueueFailed naming the enrollments that did not
    go (the minute run finds them again: they stay due)."""
    failed: list[str] = []
    url = get_settings().step_queue_url
    for start in range(0, len(messages), _BATCH):
        chunk = messages[start : start + _BATCH]
        response = aws.client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(index), "MessageBody": message.model_dump_json(exclude_none=True)}
                for index, message in enumerate(chunk)
            ],
        )
        failed += [
            f"{chunk[int(entry['Id'])].contact_id}/{chunk[int(entry['Id'])].flow_id}"
            for entry in response.get("Failed", [])
        ]
    if failed:
        raise EnqueueFailed(failed)
