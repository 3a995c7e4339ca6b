"""The part of a contact that processing reads and changes, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(slots=True)
class ContactState:
    contact_id: str
    score: int = 0
    stage: str = "subscriber"
    tags: set[str] = field(default_factory=set)
    status: str = "subscribed"
    fields: dict[str, Any] = field(default_factory=dict)
    ma_campaign_id: str | None = None
    lists: set[str] = field(default_factory=set)
    crm_statuses: dict[str, str] = field(default_factory=dict)
    qualified_at: str | None = None
    last_activity_at: datetime | None = None
    #: rule id -> (UTC day, times fired that day): enforces max_per_day without reading the ledger
    rule_days: dict[str, tuple[date, int]] = field(default_factory=dict)

    def fired_today(self, rule_id: str, day: date) -> int:
        recorded = self.rule_days.get(rule_id)
        return recorded[1] if recorded and recorded[0] == day else 0

    def copy(self) -> ContactState:
        return ContactState(
            contact_id=self.contact_id,
            score=self.score,
            stage=self.stage,
            tags=set(self.tags),
            status=self.status,
            fields=dict(self.fields),
            ma_campaign_id=self.ma_campaign_id,
            lists=set(self.lists),
            crm_statuses=dict(self.crm_statuses),
            qualified_at=self.qualified_at,
            last_activity_at=self.last_activity_at,
            rule_days=dict(self.rule_days),
        )
