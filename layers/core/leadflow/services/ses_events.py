"""Applying one SES email event: suppression on the contact, an activity for scoring and flows,
and a domain event for other consumers.

EventBridge delivers at least once, so every effect is idempotent on its own: the status change
is conditional on the status read (a redelivery finds it done), the activity has a deterministic
id (SES message id + event type + recipient: the processor applies it once), and the domain event
a stable ``event_id`` consumers deduplicate on. A failure part-way raises; the retry redoes only
what is missing. Addresses are used to find contacts, never logged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leadflow import clock
from leadflow.adapters import activity_queue, event_bus
from leadflow.adapters.event_bus import DomainEvent
from leadflow.domain import ses_events
from leadflow.domain.activities import Activity
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.domain.ses_events import Plan, RecipientEffect, SesBusEvent
from leadflow.errors import TemporarilyUnavailable
from leadflow.ids import stable_id
from leadflow.observability import logger, metrics
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

_ATTEMPTS = 5


@dataclass
class Report:
    """What one event did, for the log line and the tests (counts per outcome, never addresses)."""

    event_type: str
    ignored: str | None = None
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_log(self) -> dict[str, object]:
        return {"event_type": self.event_type, "ignored": self.ignored, **self.outcomes}


def handle(event: SesBusEvent) -> Report:
    detail = event.detail
    planned = ses_events.plan(detail)
    report = Report(event_type=str(planned.event_type), ignored=planned.ignored)
    if planned.ignored:
        metrics.add_metric(name="SesEventsIgnored", unit="Count", value=1)
        return report
    activities: list[Activity] = []
    announcements: list[DomainEvent] = []
    single_recipient = len(detail.mail.destination) <= 1
    for effect in planned.effects:
        contact_id = _contact_for(planned, effect, single_recipient=single_recipient)
        if contact_id is None:
            report.outcomes["no-contact"] += 1
            metrics.add_metric(name="SesEventsWithoutContact", unit="Count", value=1)
            continue
        status = None
        if effect.suppress_as is not None:
            outcome, status = _suppress(contact_id, effect, planned)
            report.outcomes[outcome] += 1
            if outcome == "contact-gone":
                continue
        activities.append(
            Activity(
                activity_id=effect.activity_id,
                type=effect.activity_type,
                occurred_at=effect.occurred_at,
                contact_id=contact_id,
                properties=effect.properties,
            )
        )
        if effect.announce:
            announcements.append(_announcement(effect, contact_id, status))
    if activities:
        activity_queue.send_many(activities)
        report.outcomes["activities"] += len(activities)
    event_bus.publish(announcements)
    metrics.add_metric(name="SesEventsApplied", unit="Count", value=1)
    return report


def _contact_for(planned: Plan, effect: RecipientEffect, *, single_recipient: bool) -> str | None:
    """The contact the sender named in the message's tags (Leadflow sends to one address per
    message), else the contact that owns the recipient's address."""
    if planned.contact_id and single_recipient:
        return planned.contact_id
    try:
        key = normalise_email(effect.recipient).key
    except InvalidEmail:
        return None
    return contacts_store.find_contact_id(key)


def _suppress(contact_id: str, effect: RecipientEffect, planned: Plan) -> tuple[str, str | None]:
    """Moves the contact to the suppression status the effect asks for, unless it is there already
    (or higher). Returns the outcome and the contact's status afterwards."""
    assert effect.suppress_as is not None
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        contact = contacts_store.get_contact(contact_id, consistent=True)
        if contact is None:
            logger.warning(
                "SES event for a contact that no longer exists",
                extra={"contact_id": contact_id, "ses_message_id": planned.ses_message_id},
            )
            return "contact-gone", None
        if not _is_address_of(contact.email_key, effect.recipient):
            # The tag names a contact whose address is not the one that bounced: record, never suppress.
            return "other-address", str(contact.status)
        target = ses_events.status_after(contact.status, effect.suppress_as)
        if target is None:
            return "already-suppressed", str(contact.status)
        reason: dict[str, Any] = {
            "by": str(planned.event_type).lower(),
            "at": clock.iso(effect.occurred_at),
            "ses_message_id": planned.ses_message_id,
            **{
                key: effect.properties[key]
                for key in ("bounce_sub_type", "feedback_type", "flow_id", "step_id")
                if key in effect.properties
            },
        }
        if contacts_store.suppress(
            contact_id, expected=str(contact.status), status=str(target), reason=reason, now=clock.now()
        ):
            metrics.add_metric(name="ContactsSuppressed", unit="Count", value=1)
            logger.info(
                "contact suppressed",
                extra={
                    "contact_id": contact_id,
                    "status": str(target),
                    "ses_message_id": planned.ses_message_id,
                },
            )
            return "suppressed", str(target)
    raise TemporarilyUnavailable(f"contact {contact_id} changed too often while suppressing it")


def _is_address_of(email_key: str, recipient: str) -> bool:
    try:
        return normalise_email(recipient).key == email_key
    except InvalidEmail:
        return False


def _announcement(effect: RecipientEffect, contact_id: str, status: str | None) -> DomainEvent:
    """Ids and facts only: never the address (API.md, domain events)."""
    assert effect.announce is not None
    detail: dict[str, object] = {
        "contact_id": contact_id,
        "occurred_at": clock.iso(effect.occurred_at),
        **{
            key: value
            for key, value in effect.properties.items()
            if key in ("ses_message_id", "message_id", "flow_id", "step_id", "bounce_type", "feedback_type")
        },
    }
    if status is not None:
        detail["status"] = status
    return DomainEvent(
        type=effect.announce, event_id=stable_id("evt", effect.activity_id, effect.announce), detail=detail
    )
