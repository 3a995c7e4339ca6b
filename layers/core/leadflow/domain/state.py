"""The part of a contact that processing reads and changes, as plain data, and its mapping to and
from the stored ``Contact`` (one place, so processing, decay, segments and simulation agree)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from leadflow import clock
from leadflow.domain.contacts import Contact


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
    #: CRM campaigns the contact has responded in: a later responded status is no first response
    crm_responded: set[str] = field(default_factory=set)
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
            crm_responded=set(self.crm_responded),
            qualified_at=self.qualified_at,
            last_activity_at=self.last_activity_at,
            rule_days=dict(self.rule_days),
        )


def state_of(contact: Contact) -> ContactState:
    """What processing needs of a stored contact; ``rule_days`` is stored as ``'YYYY-MM-DD:count'``."""
    rule_days: dict[str, tuple[date, int]] = {}
    for rule_id, value in contact.rule_days.items():
        day, _, count = value.partition(":")
        rule_days[rule_id] = (date.fromisoformat(day), int(count or 0))
    return ContactState(
        contact_id=contact.contact_id,
        score=contact.score,
        stage=contact.stage,
        tags=set(contact.tags),
        status=str(contact.status),
        fields=dict(contact.fields),
        ma_campaign_id=contact.ma_campaign_id,
        lists=set(contact.lists),
        crm_statuses=dict(contact.crm),
        crm_responded=set(contact.crm_responded),
        qualified_at=clock.iso(contact.qualified_at) if contact.qualified_at else None,
        last_activity_at=contact.last_activity_at,
        rule_days=rule_days,
    )


def profile_changes(state: ContactState) -> dict[str, Any]:
    """The profile attributes that processing derives, as the store writes them back."""
    return {
        "score": state.score,
        "stage": state.stage,
        "tags": sorted(state.tags),
        "lists": sorted(state.lists),
        "crm": state.crm_statuses,
        "crm_responded": sorted(state.crm_responded),
        "rule_days": {rule: f"{day.isoformat()}:{count}" for rule, (day, count) in state.rule_days.items()},
        "qualified_at": state.qualified_at,
        "last_activity_at": clock.iso(state.last_activity_at) if state.last_activity_at else None,
    }
