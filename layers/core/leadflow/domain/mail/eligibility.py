"""Who may be sent what: the check before every send (the runner calls it right before SES).

A marketing email goes only to a ``subscribed`` contact with recorded consent. Everyone else is
refused with a reason the step records: erased, unsubscribed, bounced, complained, pending
double opt-in, or subscribed without consent (imported, or from a form with no consent box).
The only email a pending contact gets is the double opt-in confirmation.
"""

from __future__ import annotations

from leadflow.domain.contacts import Contact, SubscriptionStatus

_STATUS_REASONS = {
    SubscriptionStatus.PENDING: "the contact has not confirmed the double opt-in yet",
    SubscriptionStatus.UNSUBSCRIBED: "the contact unsubscribed",
    SubscriptionStatus.BOUNCED: "the address bounced",
    SubscriptionStatus.COMPLAINED: "the contact complained (marked an email as spam)",
}


def marketing_refusal(contact: Contact | None) -> str | None:
    """Why no marketing email may go to ``contact`` (None when one may)."""
    if contact is None:
        return "the contact was erased"
    if contact.status != SubscriptionStatus.SUBSCRIBED:
        return _STATUS_REASONS.get(contact.status, f"the contact is {contact.status}")
    if contact.consent is None:
        return "no consent is recorded for the contact"
    return None


def confirmation_refusal(contact: Contact | None) -> str | None:
    """Why no double opt-in confirmation may go to ``contact`` (None when one may)."""
    if contact is None:
        return "the contact was erased"
    if contact.status != SubscriptionStatus.PENDING:
        return f"the contact is {contact.status}, not pending"
    return None
