"""Domain events on the EventBridge bus (source ``leadflow``), for sales tools and other consumers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from leadflow import aws, clock
from leadflow.ids import stable_id
from leadflow.settings import get_settings

SOURCE = "leadflow"
_BATCH = 10


class DomainEvent(BaseModel):
    """``event_id`` is deterministic (derived from the activity that caused it), so a consumer
    can drop the duplicate that an at-least-once redelivery may produce."""

    type: str
    event_id: str
    detail: dict[str, Any] = Field(default_factory=dict)


def events_of(cause: str, events: Sequence[tuple[str, dict[str, Any]]]) -> list[DomainEvent]:
    """The domain events of one cause (an activity, a decay step, a flow step), each with an id
    derived from the cause, its type and its place, so a redelivery publishes the same ids."""
    return [
        DomainEvent(type=kind, event_id=stable_id("evt", cause, kind, str(index)), detail=detail)
        for index, (kind, detail) in enumerate(events)
    ]


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
