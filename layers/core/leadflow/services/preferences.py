"""Unsubscribe and double opt-in confirmation, from the signed links in emails.

Both change the contact at once (a conditional write on the version read, retried after a
race), so the very next send already sees the new status. An unsubscribe also records an
``unsubscribe`` activity (in the same transaction, pending for the processor's scoring and the
contact's history; the outbox sweep re-enqueues it if the queue is down) and announces
``ContactUnsubscribed`` on the bus. Its event id is derived from the contact and the time of the
unsubscribe, so a repeated click announces the same event again (a consumer drops the copy),
which also heals a publish that failed the first time. See domain/preferences.py for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from botocore.exceptions import BotoCoreError, ClientError

from leadflow import clock
from leadflow.adapters import activity_queue, event_bus, secrets
from leadflow.domain import preferences
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Contact, SubscriptionStatus
from leadflow.domain.preferences import Outcome
from leadflow.domain.tokens import InvalidTokenError, Kind, SigningKeyError, TokenPayload, verify
from leadflow.errors import TemporarilyUnavailable, ValidationFailed
from leadflow.ids import stable_id
from leadflow.observability import logger, metrics
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

_ATTEMPTS = 5
type Method = Literal["one_click", "page"]


class InvalidPreferenceLink(ValidationFailed):
    """Not a genuine unsubscribe or confirm link: 400, and nothing changes."""

    status = 400


@dataclass(frozen=True, slots=True)
class PreferenceResult:
    outcome: Outcome
    contact_id: str


def check_link(token: str, kind: Kind) -> TokenPayload:
    """The verified payload of a link of ``kind``; raises InvalidPreferenceLink or, when the key
    cannot be read, TemporarilyUnavailable (a retry works)."""
    try:
        return verify(token, secrets.signing_keys(), kind)
    except InvalidTokenError as invalid:
        logger.info("preference link with a bad token", extra={"reason": str(invalid), "kind": kind.name})
        metrics.add_metric(name="InvalidEmailLinks", unit="Count", value=1)
        raise InvalidPreferenceLink("this link is invalid or was altered") from None
    except (SigningKeyError, secrets.SigningKeyUnavailableError):
        logger.exception("preference link not verified: no signing key")
        raise TemporarilyUnavailable("this link cannot be checked right now; try again shortly") from None


def unsubscribe(token: str, *, method: Method) -> PreferenceResult:
    """Unsubscribes the contact the link names; idempotent."""
    payload = check_link(token, Kind.UNSUBSCRIBE)
    for attempt in range(_ATTEMPTS):
        contact = contacts_store.get_contact(payload.contact_id, consistent=True)
        if contact is None:
            return PreferenceResult(Outcome.UNKNOWN_CONTACT, payload.contact_id)
        outcome = preferences.unsubscribe_outcome(contact.status)
        if outcome is Outcome.ALREADY_UNSUBSCRIBED:
            if contact.status == SubscriptionStatus.UNSUBSCRIBED and contact.unsubscribed_at:
                _announce(contact, payload, method)
            return PreferenceResult(outcome, contact.contact_id)
        now = clock.now()
        activity = _unsubscribe_activity(contact, payload, method, now)
        changes = {"status": str(SubscriptionStatus.UNSUBSCRIBED), "unsubscribed_at": clock.iso(now)}
        written = contacts_store.change_subscription(
            contact, changes, now, with_items=[contacts_store.put_activity(activity)]
        )
        if written:
            metrics.add_metric(name="Unsubscribes", unit="Count", value=1)
            _enqueue(activity)
            _announce(contact.model_copy(update={"unsubscribed_at": now}), payload, method)
            return PreferenceResult(outcome, contact.contact_id)
        dynamo.backoff(attempt)
    raise TemporarilyUnavailable("the contact changed concurrently too often; retry shortly")


def confirm(token: str) -> PreferenceResult:
    """Confirms a pending double opt-in; idempotent; never re-subscribes a suppressed address."""
    payload = check_link(token, Kind.CONFIRM)
    for attempt in range(_ATTEMPTS):
        contact = contacts_store.get_contact(payload.contact_id, consistent=True)
        if contact is None:
            return PreferenceResult(Outcome.UNKNOWN_CONTACT, payload.contact_id)
        outcome = preferences.confirm_outcome(contact.status)
        if outcome is not Outcome.CONFIRMED:
            return PreferenceResult(outcome, contact.contact_id)
        now = clock.now()
        consent = preferences.confirmed_consent(contact, form_id=payload.flow_id, now=now)
        changes = {"status": str(SubscriptionStatus.SUBSCRIBED), "consent": consent.model_dump(mode="json")}
        if contacts_store.change_subscription(contact, changes, now, with_items=[]):
            metrics.add_metric(name="OptInsConfirmed", unit="Count", value=1)
            return PreferenceResult(outcome, contact.contact_id)
        dynamo.backoff(attempt)
    raise TemporarilyUnavailable("the contact changed concurrently too often; retry shortly")


def _unsubscribe_activity(contact: Contact, payload: TokenPayload, method: Method, now: datetime) -> Activity:
    ids = {"message_id": payload.message_id, "flow_id": payload.flow_id, "step_id": payload.step_id}
    return Activity(
        activity_id=stable_id("act", "unsubscribe", contact.contact_id, clock.iso(now)),
        type="unsubscribe",
        occurred_at=now,
        contact_id=contact.contact_id,
        properties={**{name: value for name, value in ids.items() if value is not None}, "method": method},
    )


def _enqueue(activity: Activity) -> None:
    try:
        activity_queue.send(activity)
    except (BotoCoreError, ClientError):  # stored as pending: the outbox sweep enqueues it
        logger.exception("unsubscribe activity not enqueued", extra={"activity": activity.activity_id})
        metrics.add_metric(name="EnqueueDeferred", unit="Count", value=1)


def _announce(contact: Contact, payload: TokenPayload, method: Method) -> None:
    """``ContactUnsubscribed``; a failure is logged, never shown to the person (they are unsubscribed)."""
    assert contact.unsubscribed_at is not None
    at = clock.iso(contact.unsubscribed_at)
    event = event_bus.DomainEvent(
        type="ContactUnsubscribed",
        event_id=stable_id("evt", "ContactUnsubscribed", contact.contact_id, at),
        detail={
            "contact_id": contact.contact_id,
            "unsubscribed_at": at,
            "message_id": payload.message_id,
            "flow_id": payload.flow_id,
            "step_id": payload.step_id,
            "method": method,
        },
    )
    try:
        event_bus.publish([event])
    except (event_bus.PublishFailed, BotoCoreError, ClientError):
        logger.exception("ContactUnsubscribed not published", extra={"contact_id": contact.contact_id})
        metrics.add_metric(name="DomainEventsNotPublished", unit="Count", value=1)
