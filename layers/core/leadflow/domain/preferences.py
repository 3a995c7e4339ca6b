"""What an unsubscribe or a double opt-in confirmation does to a subscription status (pure).

- Unsubscribing is always honoured: a ``subscribed`` or ``pending`` contact becomes
  ``unsubscribed``; an address already unsubscribed, bounced or complained stays as it is (a
  bounce or a complaint says more than an unsubscribe and keeps the address suppressed).
- Confirming moves only ``pending`` to ``subscribed``. A contact who unsubscribed, bounced or
  complained after the confirmation email was sent is not re-subscribed by that old link: the
  newer statement wins, and an address that bounced or complained must never be mailed again.
  Such a person subscribes again by submitting a form (a double opt-in form makes them
  ``pending`` and sends a new confirmation).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from leadflow.domain.contacts import Consent, Contact, SubscriptionStatus


class Outcome(StrEnum):
    UNSUBSCRIBED = "unsubscribed"  # this request unsubscribed the contact
    ALREADY_UNSUBSCRIBED = "already_unsubscribed"  # nothing to do: no email goes to them anyway
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"  # unsubscribed, bounced or complained since: the old link is refused
    UNKNOWN_CONTACT = "unknown_contact"  # erased (or never existed): nothing is kept to change


_SUPPRESSED = {SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.BOUNCED, SubscriptionStatus.COMPLAINED}


def unsubscribe_outcome(status: SubscriptionStatus) -> Outcome:
    return Outcome.ALREADY_UNSUBSCRIBED if status in _SUPPRESSED else Outcome.UNSUBSCRIBED


def confirm_outcome(status: SubscriptionStatus) -> Outcome:
    if status == SubscriptionStatus.PENDING:
        return Outcome.CONFIRMED
    if status == SubscriptionStatus.SUBSCRIBED:
        return Outcome.ALREADY_CONFIRMED
    return Outcome.NOT_PENDING


def confirmed_consent(contact: Contact, *, form_id: str | None, now: datetime) -> Consent:
    """The consent a confirmation keeps: the form's (its time, form and wording) with the
    confirmation time added; a double opt-in form without a consent box has none, and then the
    confirmation itself is the consent, given now through that form."""
    if contact.consent is not None:
        return contact.consent.model_copy(update={"confirmed_at": now})
    return Consent(given_at=now, form_id=form_id or "unknown", text=None, confirmed_at=now)
