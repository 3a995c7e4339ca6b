"""The data subject's rights: everything stored about a contact (access), and its erasure.

Erasure happens in two steps. First, one transaction deletes the profile and the email guard
and leaves a tombstone holding only a hash of the address, so every other path (capture, the
processor, the step worker, a connector) finds no contact from then on, and an import cannot
bring the address back. Then the rest is deleted: the contact's partition of the Contacts table
(activity history, score ledger, claims, enrollments), its rows in the Campaigns table
(campaign and list memberships, membership history) and the visitor activity that led to it.
If the second step is interrupted, erasing again finishes it. ``ContactErased`` tells the
bus's consumers (a CRM connector, a data warehouse) to forget the contact too.

Aggregated report counters hold no personal data and are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadflow import clock
from leadflow.adapters import event_bus
from leadflow.adapters.event_bus import DomainEvent
from leadflow.errors import NotFound
from leadflow.ids import stable_id
from leadflow.observability import logger, metrics
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

#: Keys that only serve the tables' indexes, left out of an export.
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


@dataclass(frozen=True, slots=True)
class ContactExport:
    contact_id: str
    exported_at: str
    profile: dict[str, Any]
    #: the contact's other items by kind (``activities``, ``score_ledger``, ``enrollments``, ...)
    records: dict[str, list[dict[str, Any]]]
    campaign_memberships: list[dict[str, Any]]
    list_memberships: list[dict[str, Any]]
    membership_history: list[dict[str, Any]]
    visitor_activity: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Erasure:
    contact_id: str
    erased_at: str
    items_deleted: int


_KINDS = {
    "ACT": "activities",
    "SCORE": "score_ledger",
    "FLOW": "enrollments",
    "EFFECT": "flow_effects",
    "APPLIED": "applied_claims",
    "RECORDED": "recorded_changes",
}


def export_contact(contact_id: str) -> ContactExport:
    """Everything stored about the contact, as stored (index keys aside)."""
    items = contacts_store.contact_partition(contact_id)
    profile = next((item for item in items if item["sk"] == contacts_store.PROFILE), None)
    if profile is None:
        raise NotFound(f"no contact {contact_id}")
    records: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item is profile:
            continue
        prefix = str(item["sk"]).split("#", 1)[0]
        records.setdefault(_KINDS.get(prefix, prefix.lower()), []).append(_plain(item))
    rows = campaigns_store.contact_rows(contact_id)
    visitors = _visitor_ids(contact_id, items, profile.get("email_key"))
    return ContactExport(
        contact_id=contact_id,
        exported_at=clock.iso(clock.now()),
        profile=_plain(profile),
        records=records,
        campaign_memberships=[_plain(row) for row in rows if str(row["pk"]).startswith("MEMBERS#")],
        list_memberships=[_plain(row) for row in rows if str(row["pk"]).startswith("LIST#")],
        membership_history=[_plain(row) for row in rows if str(row["pk"]).startswith("MEMBERHIST#")],
        visitor_activity=[
            _plain(item)
            for visitor in visitors
            for item in contacts_store.anonymous_partition(visitor)
            if str(item["sk"]).startswith("ACT#")
        ],
    )


def erase_contact(contact_id: str) -> Erasure:
    """Erases the contact everywhere; ``NotFound`` when no such contact is or was stored.

    Repeatable: erasing an erased contact finishes what an interrupted erasure left and announces
    the same ``ContactErased`` event (its id is derived from the contact id)."""
    now = clock.now()
    items = contacts_store.contact_partition(contact_id)
    profile = next((item for item in items if item["sk"] == contacts_store.PROFILE), None)
    erased_before = contacts_store.erasure_record(contact_id)
    if profile is None and erased_before is None:
        raise NotFound(f"no contact {contact_id}")
    email_key = profile.get("email_key") if profile else None
    erased_at = str(erased_before["erased_at"]) if erased_before else clock.iso(now)
    if profile is not None:
        contact = contacts_store.get_contact(contact_id, consistent=True)
        if contact is not None:
            try:
                dynamo.transact_write(contacts_store.erasure_items(contact, now))
            except dynamo.TransactionCancelled:
                # erased meanwhile by another call: the rest below is idempotent
                logger.info("contact erased concurrently", extra={"contact_id": contact_id})
    rows = campaigns_store.contact_rows(contact_id)
    rest = [(item["pk"], item["sk"]) for item in items if item["sk"] != contacts_store.PROFILE]
    for visitor in _visitor_ids(contact_id, items, email_key):
        rest += [(item["pk"], item["sk"]) for item in contacts_store.anonymous_partition(visitor)]
    contacts_store.delete_items(rest)
    campaigns_store.delete_rows([(row["pk"], row["sk"]) for row in rows])
    event_bus.publish(
        [
            DomainEvent(
                type="ContactErased",
                event_id=stable_id("evt", contact_id, "erased"),
                detail={"contact_id": contact_id, "at": erased_at},
            )
        ]
    )
    deleted = len(rest) + len(rows) + (1 if profile else 0)
    metrics.add_metric(name="ContactsErased", unit="Count", value=1)
    return Erasure(contact_id=contact_id, erased_at=erased_at, items_deleted=deleted)


def _visitor_ids(contact_id: str, items: list[dict[str, Any]], email_key: str | None) -> list[str]:
    """The anonymous buckets that hold this person's activity from before they were identified:
    the visitor ids their activities carry (if linked to them) and their email's bucket."""
    candidates = {str(item["anonymous_id"]) for item in items if item.get("anonymous_id")}
    visitors = sorted(
        visitor for visitor in candidates if contacts_store.linked_contact(visitor) == contact_id
    )
    if email_key:
        visitors.append(f"email:{email_key}")
    return visitors


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in _INDEX_KEYS}
