"""The SQS import queue: an import's plan step, then one message per chunk of rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from leadflow import aws
from leadflow.settings import get_settings

_BATCH = 10


class ImportMessage(BaseModel):
    """``plan`` reads the file once and sends its chunks; ``chunk`` imports rows ``first_row`` on,
    from bytes ``start`` to ``end`` of the file (``duplicates``: row -> the earlier row with its email)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    import_id: str
    step: Literal["plan", "chunk"]
    chunk: int = 0
    start: int = 0
    end: int = 0
    first_row: int = 0
    rows: int = 0
    duplicates: dict[int, int] = Field(default_factory=dict)


class EnqueueFailed(RuntimeError):
    def __init__(self, failed: int) -> None:
        super().__init__(f"{failed} import messages were not enqueued")


def send(message: ImportMessage) -> None:
    aws.client("sqs").send_message(
        QueueUrl=get_settings().import_queue_url, MessageBody=message.model_dump_json(exclude_defaults=True)
    )


def send_many(messages: Sequence[ImportMessage]) -> None:
    url = get_settings().import_queue_url
    failed = 0
    for start in range(0, len(messages), _BATCH):
        chunk = messages[start : start + _BATCH]
        response = aws.client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(index), "MessageBody": item.model_dump_json(exclude_defaults=True)}
                for index, item in enumerate(chunk)
            ],
        )
        failed += len(response.get("Failed", []))
    if failed:
        raise EnqueueFailed(failed)
