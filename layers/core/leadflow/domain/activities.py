"""Activities: every behaviour Leadflow records, as stored on a contact and sent to the processor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leadflow.domain.contacts import Attribution


class ActivityFacts(BaseModel):
    """What capture already did, so the processor can announce it without reading it back."""

    model_config = ConfigDict(extra="forbid")

    contact_created: bool = False
    ma_campaign_joined: str | None = None
    status: str | None = None


class Activity(BaseModel):
    """One behaviour of one person. ``activity_id`` is deterministic for the same real-world
    event, so a redelivery is recognised and applied once."""

    model_config = ConfigDict(extra="forbid")

    activity_id: str
    type: str
    occurred_at: datetime
    contact_id: str | None = None
    anonymous_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    context: Attribution = Field(default_factory=Attribution)
    facts: ActivityFacts = Field(default_factory=ActivityFacts)

    def to_message(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_message(cls, body: str) -> Activity:
        return cls.model_validate_json(body)
