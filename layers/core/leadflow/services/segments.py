"""Rebuilding segments in the background after their definition changes.

Membership is kept up to date per contact as activities arrive; a changed ``where`` (or a
changed temperature band) means every contact must be looked at again. A segment a contact
joins here sets off the MA->CRM rules on it, as it would in an activity's pass. That is a walk over
the profiles (a paginated Scan: a background job, never an event path), in pages, each page
ending with a cursor the next invocation continues from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadflow import clock
from leadflow.adapters import event_bus
from leadflow.domain import processing
from leadflow.domain.state import profile_changes, state_of
from leadflow.ids import stable_id
from leadflow.observability import logger, metrics
from leadflow.services import crm_changes, definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.domain.contacts import Contact


@dataclass(frozen=True, slots=True)
class PageReport:
    examined: int
    changed: int
    cursor: dict[str, Any] | None


def rebuild_page(segment_ids: list[str], cursor: dict[str, Any] | None, page_size: int = 1000) -> PageReport:
    """Re-evaluates one page of contacts against the segments; returns where to go on."""
    bundle = definitions.active().bundle
    contacts, next_cursor = contacts_store.profiles_page(cursor, page_size)
    changed = sum(1 for contact in contacts if _rebuild_contact(bundle, contact, segment_ids))
    metrics.add_metric(name="SegmentMembershipsRebuilt", unit="Count", value=changed)
    return PageReport(examined=len(contacts), changed=changed, cursor=next_cursor)


def _rebuild_contact(bundle: Bundle, contact: Contact, segment_ids: list[str]) -> bool:
    for _ in range(3):
        now = clock.now()
        stamp = clock.iso(now)
        state = state_of(contact)
        outcome = processing.rebuild_segments(bundle, state, segment_ids, stamp)
        after = outcome.after
        if after.lists == state.lists:
            return False
        cause = stable_id("seg", contact.contact_id, str(contact.version), ",".join(segment_ids))
        items = [
            contacts_store.profile_update(contact, profile_changes(after), now),
            *[
                campaigns_store.list_membership_put(item, contact.contact_id, source="rule", now=stamp)
                for item in sorted(after.lists - state.lists)
            ],
            *[
                campaigns_store.list_membership_delete(item, contact.contact_id)
                for item in sorted(state.lists - after.lists)
            ],
            *crm_changes.membership_items(outcome.crm_memberships, cause_id=cause),
        ]
        try:
            dynamo.transact_write(items)
        except dynamo.TransactionCancelled:
            fresh = contacts_store.get_contact(contact.contact_id, consistent=True)
            if fresh is None:
                return False
            contact = fresh
            continue
        _announce(cause, outcome)
        return True
    logger.warning("segment rebuild skipped a busy contact", extra={"contact": contact.contact_id})
    return False


def _announce(cause: str, outcome: processing.Outcome) -> None:
    """The events of the CRM memberships the rebuild's sync rules made (connectors, reports)."""
    if outcome.events:
        event_bus.publish(event_bus.events_of(cause, outcome.events))


def rebuild(segment_ids: list[str], cursor: dict[str, Any] | None, has_time: Any) -> dict[str, Any]:
    """Rebuilds page after page while ``has_time()``; if pages remain, hands the cursor on
    through a ``SegmentRebuildContinued`` event, which brings this job back."""
    examined = changed = 0
    while segment_ids:
        page = rebuild_page(segment_ids, cursor)
        examined += page.examined
        changed += page.changed
        cursor = page.cursor
        if cursor is None:
            break
        if not has_time():
            key = stable_id("evt", "segments", ",".join(segment_ids), str(cursor))
            event_bus.publish(
                [
                    event_bus.DomainEvent(
                        type="SegmentRebuildContinued",
                        event_id=key,
                        detail={"segments": segment_ids, "cursor": cursor},
                    )
                ]
            )
            break
    return {"job": "segments", "examined": examined, "changed": changed, "continues": cursor is not None}
