"""The contact: subscription states, lifecycle stage, and how a submission updates a profile."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionStatus(StrEnum):
    PENDING = "pending"  # double opt-in not confirmed yet
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


#: States that a new consent never overrides: the address itself is unusable or the person complained.
_TERMINAL = {SubscriptionStatus.BOUNCED, SubscriptionStatus.COMPLAINED}


class Attribution(BaseModel):
    """Where a contact first came from (first touch), or where an activity came from."""

    model_config = ConfigDict(extra="forbid")

    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    page_url: str | None = None
    referrer: str | None = None
    anonymous_id: str | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class Consent(BaseModel):
    """Proof of marketing consent: which form, which wording, when; and for double opt-in, when
    the person confirmed by the emailed link."""

    given_at: datetime
    form_id: str
    text: str | None = None
    confirmed_at: datetime | None = None


class Contact(BaseModel):
    """A person, as stored on the Contacts table's profile item."""

    model_config = ConfigDict(extra="ignore")

    contact_id: str
    email: str
    email_key: str
    status: SubscriptionStatus
    fields: dict[str, Any] = Field(default_factory=dict)
    stage: str = "subscriber"
    score: int = 0
    tags: list[str] = Field(default_factory=list)
    ma_campaign_id: str | None = None
    ma_campaign_joined_at: datetime | None = None
    attribution: Attribution = Field(default_factory=Attribution)
    consent: Consent | None = None
    lists: list[str] = Field(default_factory=list)
    crm: dict[str, str] = Field(default_factory=dict, description="CRM campaign id -> member status")
    crm_responded: list[str] = Field(
        default_factory=list, description="CRM campaigns the contact has responded in (at some status)"
    )
    rule_days: dict[str, str] = Field(default_factory=dict, description="rule id -> 'YYYY-MM-DD:count'")
    qualified_at: datetime | None = None
    last_activity_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


def initial_status(*, double_opt_in: bool, consent_given: bool | None) -> SubscriptionStatus:
    """A new contact's status. ``consent_given`` is None when the form asks for no consent."""
    if double_opt_in:
        return SubscriptionStatus.PENDING
    if consent_given is False:
        return SubscriptionStatus.UNSUBSCRIBED
    return SubscriptionStatus.SUBSCRIBED


def status_after_submission(
    current: SubscriptionStatus, *, double_opt_in: bool, consent_given: bool | None
) -> SubscriptionStatus:
    """A returning contact's status: fresh consent re-subscribes, nothing else downgrades.

    Bounced and complained addresses stay so; an unticked optional box never unsubscribes
    someone who had agreed before; a double opt-in form asks an unsubscribed person to confirm.
    """
    if current in _TERMINAL or not consent_given:
        return current
    if current == SubscriptionStatus.UNSUBSCRIBED:
        return SubscriptionStatus.PENDING if double_opt_in else SubscriptionStatus.SUBSCRIBED
    return current


def merge_fields(submitted: dict[str, Any]) -> dict[str, Any]:
    """The values a submission writes: new non-empty values win, empty values never erase."""
    return {name: value for name, value in submitted.items() if not _is_empty(value)}


def _is_empty(value: Any) -> bool:
    """Blank text, nothing, an empty list or an unticked box; a number 0 is a real value."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list) and not value
