"""Applying one activity: identity, scoring, actions, lifecycle, segments, events; exactly once.

At-least-once delivery is made exactly-once by one conditional transaction per activity: the
activity item is written ``applied`` only if it was not before, together with the profile
(guarded by its version) and the ledger rows. A redelivery fails the condition and only
re-announces the events stored with the activity, which carry stable ids for consumers.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from leadflow import clock
from leadflow.adapters import activity_queue, event_bus
from leadflow.adapters.event_bus import DomainEvent
from leadflow.domain import processing
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Contact
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.domain.state import profile_changes, state_of
from leadflow.errors import TemporarilyUnavailable
from leadflow.observability import logger, metrics
from leadflow.services import crm_changes, definitions
from leadflow.services.nurture import confirming, dates, enrolling
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

ANONYMOUS_HISTORY = timedelta(days=90)
_ATTEMPTS = 8
_TRANSACTION_LIMIT = 100


def handle(activity: Activity) -> str:
    """Processes one activity; returns what happened (for logs and tests)."""
    contact_id = activity.contact_id or _identify(activity)
    if contact_id is None:
        bucket = _anonymous_bucket(activity)
        if bucket is None:
            raise ValueError(f"activity {activity.activity_id} names neither a contact nor a visitor")
        kept = contacts_store.put_anonymous_activity(
            activity.model_copy(update={"anonymous_id": bucket}), ttl=ANONYMOUS_HISTORY
        )
        return "kept-anonymous" if kept else "duplicate"
    activity = activity.model_copy(update={"contact_id": contact_id})
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        contact = contacts_store.get_contact(contact_id, consistent=True)
        if contact is None:
            logger.warning(
                "activity for a contact that no longer exists", extra={"activity": activity.activity_id}
            )
            return "contact-gone"
        result = _apply(definitions.active(), contact, activity)
        if result != "raced":
            return result
    raise TemporarilyUnavailable(
        f"contact {contact_id} changed too often while applying {activity.activity_id}"
    )


def _identify(activity: Activity) -> str | None:
    """An anonymous visitor who converted before, or an event that carries a known email."""
    if activity.anonymous_id:
        linked = contacts_store.linked_contact(activity.anonymous_id)
        if linked:
            return linked
    email = activity.properties.get("email")
    if isinstance(email, str):
        try:
            return contacts_store.find_contact_id(normalise_email(email).key)
        except InvalidEmail:
            return None
    return None


def _anonymous_bucket(activity: Activity) -> str | None:
    if activity.anonymous_id:
        return activity.anonymous_id
    email = activity.properties.get("email")
    if isinstance(email, str):
        try:
            return f"email:{normalise_email(email).key}"
        except InvalidEmail:
            return None
    return None


def _domain_events(activity: Activity, outcome: processing.Outcome) -> list[DomainEvent]:
    return event_bus.events_of(activity.activity_id, outcome.events)


def _apply(active: definitions.ActiveDefinitions, contact: Contact, activity: Activity) -> str:
    bundle = active.bundle
    outcome = processing.process(bundle, state_of(contact), activity)
    events = _domain_events(activity, outcome)
    if outcome.qualified:
        _add_sales_facts(events, contact, [asdict(entry) for entry in outcome.ledger])
    now = clock.now()
    stamp = clock.iso(now)
    changes = profile_changes(outcome.after)
    due = processing.next_decay(bundle, outcome.after, outcome.after.last_activity_at or now)
    removals = None
    if due is None:
        removals = ["gsi1pk", "gsi1sk"]
    else:
        changes.update(contacts_store.decay_key(contact.contact_id, due))
    items = contacts_store.apply_items(
        contact,
        activity,
        changes=changes,
        removals=removals,
        ledger=[asdict(entry) for entry in outcome.ledger],
        events=[event.model_dump(mode="json") for event in events],
        now=now,
    )
    for list_id in outcome.lists_joined:
        items.append(
            campaigns_store.list_membership_put(list_id, contact.contact_id, source="rule", now=stamp)
        )
    for list_id in outcome.lists_left:
        items.append(campaigns_store.list_membership_delete(list_id, contact.contact_id))
    items += crm_changes.membership_items(outcome.crm_memberships, cause_id=activity.activity_id)
    if outcome.sync_rules_fired:
        metrics.add_metric(name="SyncRulesFired", unit="Count", value=len(outcome.sync_rules_fired))
    for campaign_id, reason in outcome.crm_refused:
        logger.warning(
            "a CRM membership the definitions asked for was refused",
            extra={"activity": activity.activity_id, "campaign_id": campaign_id, "reason": reason},
        )
        metrics.add_metric(name="CrmMembershipsRefused", unit="Count", value=1)
    # The month-day index of date fields changes with the fields it mirrors (date_field triggers).
    items += dates.index_items(bundle, contact.contact_id, contact.fields, outcome.after.fields, activity)
    # A double opt-in submission claims its one confirmation email here; it is sent after the commit.
    items += confirming.claim_items(bundle, activity, now)
    # Enrollments ride in the activity's transaction: a redelivery enrolls nobody twice.
    flows = processing.flows_to_start(bundle, outcome, activity)
    enrolled_from = len(items)
    started: list[Enrollment] = []
    if flows:
        enroll_items, started = enrolling.enrollment_items(
            flows, active.version, contact.contact_id, activity, now
        )
        items += enroll_items
    if len(items) > _TRANSACTION_LIMIT:
        raise ValueError(f"activity {activity.activity_id} would change {len(items)} items; the limit is 100")
    try:
        dynamo.transact_write(items)
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(0):
            stored = contacts_store.applied_events(contact.contact_id, activity) or []
            event_bus.publish([DomainEvent.model_validate(event) for event in stored])
            enrolling.wake(bundle, contact.contact_id, activity)
            confirming.send(bundle, activity)  # finishes a confirmation a crash or throttling left
            metrics.add_metric(name="DuplicateActivities", unit="Count", value=1)
            return "duplicate"
        enrollment_raced = any(cancelled.failed_at(index) for index in range(enrolled_from, len(items)))
        if cancelled.failed_at(1) or cancelled.conflicted or enrollment_raced:
            return "raced"
        raise
    event_bus.publish(events)
    enrolling.announce_enrolled(started)
    enrolling.wake(bundle, contact.contact_id, activity)
    confirming.send(bundle, activity)
    metrics.add_metric(name="ActivitiesApplied", unit="Count", value=1)
    if outcome.qualified:
        metrics.add_metric(name="LeadsQualified", unit="Count", value=1)
    if activity.type == "form_submit":
        _stitch(activity, contact, now)
    return "applied"


def _add_sales_facts(events: list[DomainEvent], contact: Contact, current: list[dict[str, Any]]) -> None:
    """LeadQualified carries what sales needs: the strongest reasons and where the lead came from."""
    ledger = current + contacts_store.score_ledger(contact.contact_id, limit=50)
    top = sorted(ledger, key=lambda row: row["points"], reverse=True)[:5]
    for event in events:
        if event.type == "LeadQualified":
            event.detail["top_rules"] = [
                {"rule_id": row["rule_id"], "points": row["points"], "activity_type": row["activity_type"]}
                for row in top
            ]
            event.detail["attribution"] = contact.attribution.model_dump(exclude_none=True)


def _stitch(activity: Activity, contact: Contact, now: Any) -> None:
    """A visitor converted: link their anonymous id and replay their earlier activity as theirs."""
    buckets = [f"email:{contact.email_key}"]
    if activity.anonymous_id:
        contacts_store.link_anonymous(activity.anonymous_id, contact.contact_id, now)
        buckets.insert(0, activity.anonymous_id)
    earlier: list[Activity] = []
    for bucket in buckets:
        earlier += [
            item.model_copy(update={"contact_id": contact.contact_id})
            for item in contacts_store.anonymous_activities(bucket)
        ]
    if earlier:
        activity_queue.send_many(earlier)
        metrics.add_metric(name="ActivitiesStitched", unit="Count", value=len(earlier))
