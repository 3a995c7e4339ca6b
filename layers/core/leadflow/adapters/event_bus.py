"""Domain events on the EventBridge bus (source ``leadflow``), for sales tools and other consumers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from leadflow import aws, clock
from leadflow.settings import get_settings

SOURCE = "leadflow"
_BATCH = 10


class DomainEvent(BaseModel):
    """``event_id`` is deterministic (derived from the activity that caused it), so a consumer
    can drop the duplicate that an at-least-once redelivery may produce."""

    type: str
    event_id: str
    detail: dict[str, Any] = Field(default_factory=dict)


class PublishFailed(RuntimeError):
    pass


def publish(events: Sequence[DomainEvent]) -> None:
    if not events:
        return
    bus = get_settings().event_bus_name
    now = clock.now()
    for start in range(0, len(events), _BATCH):
        chunk = events[start : start + _BATCH]
        response = aws.client("events").put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": event.type,
                    "Detail": json.dumps({"event_id": event.event_id, **event.detail}, default=str),
                    "EventBusName": bus,
                    "Time": now,
                }
                for event in chunk
            ]
        )
        if response.get("FailedEntryCount"):
            raise PublishFailed(f"{response['FailedEntryCount']} domain events were not published")
