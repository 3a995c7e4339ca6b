"""What an import does to one person: the subscription status it leaves and the fields it changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadflow.domain.contacts import SubscriptionStatus
from leadflow.domain.emails import EmailAddress


@dataclass(frozen=True, slots=True)
class ImportedPerson:
    """One person as an import row (or a Pinpoint user's endpoints) describes them.

    ``key`` is the row (or first line) number: with the import id it names the person's activity,
    which is the row's claim. ``inactive`` is why their email is suppressed (Pinpoint's
    ``EndpointStatus: INACTIVE``), ``opted_out`` that they asked for no messages (``OptOut: ALL``)."""

    key: int
    email: EmailAddress
    fields: dict[str, Any] = field(default_factory=dict)
    opted_out: bool = False
    inactive: dict[str, Any] | None = None
    lines: tuple[int, ...] = ()


def status_after_import(current: SubscriptionStatus | None, person: ImportedPerson) -> SubscriptionStatus:
    """A new contact is subscribed (a file carries no consent text to confirm; the address is
    the customer's own list), an existing one keeps its status; an inactive endpoint suppresses
    as a bounce does and an opt-out unsubscribes. Nothing re-subscribes: precedence is
    complained > bounced > unsubscribed > the rest, as for SES events."""
    rank = {
        SubscriptionStatus.COMPLAINED: 3,
        SubscriptionStatus.BOUNCED: 2,
        SubscriptionStatus.UNSUBSCRIBED: 1,
    }
    status = current or SubscriptionStatus.SUBSCRIBED
    wanted = status
    if person.inactive is not None:
        wanted = SubscriptionStatus.BOUNCED
    elif person.opted_out:
        wanted = SubscriptionStatus.UNSUBSCRIBED
    return wanted if rank.get(wanted, 0) > rank.get(status, 0) else status


def changed_fields(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The imported values that differ from the contact's (empty values were dropped before)."""
    return {name: value for name, value in wanted.items() if current.get(name) != value}
