"""Scheduled work: score decay and the activity outbox sweep.

Both read only what is due from sharded GSI1 partitions (never a Scan), so a run costs in
proportion to the work waiting, not to the number of contacts. Both are safe to run twice:
every write is conditional on the state it was computed from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.adapters import activity_queue, event_bus
from leadflow.domain import processing
from leadflow.domain.contacts import Contact
from leadflow.domain.state import profile_changes, state_of
from leadflow.ids import stable_id
from leadflow.observability import logger, metrics
from leadflow.services import crm_changes, definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

if TYPE_CHECKING:
    from leadflow.definitions import Bundle

#: An activity still pending this long after capture lost its enqueue (or its message died).
OUTBOX_GRACE = timedelta(minutes=5)
#: The longest wait between two resends of one activity: after the grace period the waits double
#: (10, 20, 40 ... minutes), so an activity waiting out an hour's backlog is re-sent three times,
#: not twelve, and one that keeps failing is re-tried every six hours.
OUTBOX_LONGEST_WAIT = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class RunReport:
    examined: int = 0
    changed: int = 0


def decay_scores(now: datetime | None = None) -> RunReport:
    """Applies every decay step that has fallen due, one step per contact per run."""
    moment = now or clock.now()
    bundle = definitions.active().bundle
    examined = changed = 0
    for shard in range(contacts_store.DECAY_SHARDS):
        for contact, due in contacts_store.decay_due(shard, moment):
            examined += 1
            if _decay_one(bundle, contact, due, moment):
                changed += 1
    metrics.add_metric(name="ScoresDecayed", unit="Count", value=changed)
    return RunReport(examined, changed)


def _decay_one(bundle: Bundle, contact: Contact, due: datetime, now: datetime) -> bool:
    state = state_of(contact)
    outcome = processing.decay(bundle, state, due)
    next_due = processing.next_decay(bundle, outcome.after, due)
    changes = profile_changes(outcome.after)  # the score, and what the segments it moved set off
    removals = None
    if next_due is None:
        removals = ["gsi1pk", "gsi1sk"]
    else:
        changes.update(contacts_store.decay_key(contact.contact_id, next_due))
    stamp = clock.iso(now)
    cause = stable_id("decay", contact.contact_id, clock.iso(due))
    items = [
        contacts_store.profile_update(contact, changes, now, removals=removals),
        *[contacts_store.put_ledger_row(contact.contact_id, asdict(entry)) for entry in outcome.ledger],
        *[
            campaigns_store.list_membership_put(item, contact.contact_id, source="rule", now=stamp)
            for item in outcome.after.lists - outcome.before.lists
        ],
        *[
            campaigns_store.list_membership_delete(item, contact.contact_id)
            for item in outcome.before.lists - outcome.after.lists
        ],
        *crm_changes.membership_items(outcome.crm_memberships, cause_id=cause),
    ]
    try:
        dynamo.transact_write(items)
    except dynamo.TransactionCancelled:
        logger.info(
            "contact changed during decay; the next run retries", extra={"contact": contact.contact_id}
        )
        return False
    event_bus.publish(event_bus.events_of(cause, outcome.events))
    return bool(outcome.ledger)


def sweep_outbox(now: datetime | None = None) -> RunReport:
    """Re-enqueues activities that were stored but not applied within the grace period: capture
    lost the enqueue, or the message died.

    The sweep cannot tell a lost message from one waiting in a backlog, so each resent activity
    moves back in the outbox by a wait that doubles with every resend: a backlog is re-sent a few
    times as it drains (each copy applied once, the rest found applied), not on every run.
    """
    moment = now or clock.now()
    found = 0
    for shard in range(contacts_store.PENDING_SHARDS):
        pending = contacts_store.pending_activities(shard, moment - OUTBOX_GRACE)
        if pending:
            activity_queue.send_many([entry.activity for entry in pending])
            found += len(pending)
            for entry in pending:
                due = moment + _wait_after(entry.resent + 1)
                contacts_store.defer_pending(entry, due - OUTBOX_GRACE)  # the query subtracts the grace
    if found:
        logger.warning("re-enqueued activities from the outbox", extra={"count": found})
    metrics.add_metric(name="OutboxReenqueued", unit="Count", value=found)
    return RunReport(found, found)


def _wait_after(resends: int) -> timedelta:
    """How long after its ``resends``-th resend an activity is due again: 10, 20, 40 ... minutes."""
    return min(OUTBOX_GRACE * 2 ** min(resends, 16), OUTBOX_LONGEST_WAIT)
