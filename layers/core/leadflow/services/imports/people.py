"""Creating or updating the contact an imported row describes: capture's dedupe (the email guard
in the contact's own transaction) and its field merge, with the row's activity as the row's claim.

The activity's id comes from the import and the row, and its time is the import's, so its key is
the same on every run: written in the same transaction as the contact, it makes a retried or
resumed row change nothing, and tells what the first run did (created or updated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from leadflow import clock
from leadflow.domain.activities import Activity, ActivityFacts
from leadflow.domain.contacts import Contact, SubscriptionStatus
from leadflow.domain.imports.people import ImportedPerson, changed_fields, status_after_import
from leadflow.errors import TemporarilyUnavailable
from leadflow.ids import new_id, stable_id
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

ACTIVITY_TYPE = "contact_imported"
_ATTEMPTS = 10

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class ImportContext:
    import_id: str
    source: Literal["csv", "pinpoint"]
    at: datetime
    """The import's creation time: every row's activity carries it, so its key is stable."""
    list_id: str | None = None
    campaign_id: str | None = None
    resuming: bool = False
    """The chunk ran before: check each row's claim before deciding anew."""


@dataclass(frozen=True, slots=True)
class Upserted:
    contact_id: str
    outcome: Outcome
    activity: Activity | None
    """The activity to enqueue when this run wrote it (None when unchanged or written before)."""
    joined_list: bool = False
    contact: Contact | None = None
    """The contact as this run left it, created or updated (its membership write saves a read);
    None when an earlier run wrote the row."""


def activity_for(context: ImportContext, person: ImportedPerson, contact_id: str) -> Activity:
    properties: dict[str, Any] = {"import_id": context.import_id, "source": context.source, "row": person.key}
    if context.campaign_id:
        properties["campaign_id"] = context.campaign_id
    if context.list_id:
        properties["list_id"] = context.list_id
    if person.lines:
        properties["lines"] = list(person.lines)
    return Activity(
        activity_id=stable_id("imp", context.import_id, str(person.key)),
        type=ACTIVITY_TYPE,
        occurred_at=context.at,
        contact_id=contact_id,
        properties=properties,
    )


def known_addresses(people: list[ImportedPerson]) -> dict[str, contacts_store.AddressState]:
    """The addresses of a batch of rows, read together (``upsert``'s ``known``)."""
    return contacts_store.address_states([person.email.key for person in people])


def upsert(
    context: ImportContext, person: ImportedPerson, known: contacts_store.AddressState | None = None
) -> Upserted:
    """``known``: the address as read for a batch of rows just before (``known_addresses``). It
    saves the first attempt's reads; if it is stale, the write's guard fails and the retry reads."""
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        state = known if known is not None and attempt == 0 else None
        contact_id = (
            state.contact_id if state else contacts_store.find_contact_id(person.email.key, consistent=True)
        )
        try:
            if contact_id is None:
                return _create(context, person, erased=state.erased if state else None)
            return _update(context, person, contact_id, state.contact if state else None)
        except _LostRace:
            continue
    raise TemporarilyUnavailable("a contact changed concurrently too often; the chunk is retried")


class ErasedAddress(Exception):
    """The row's address belongs to a person who was erased (docs/PRIVACY.md): an import never
    brings them back; only the person's own sign-up through a form does."""

    reason = "this address was erased at the person's request; an import cannot bring it back"


class _LostRace(Exception):
    """Another writer created or changed the contact between our read and our write."""


def _earlier(context: ImportContext, person: ImportedPerson, contact_id: str) -> Upserted | None:
    """What a previous run of this row did, if it wrote the row's activity."""
    probe = activity_for(context, person, contact_id)
    stored = contacts_store.recorded_activity(contact_id, probe)
    if stored is None:
        return None
    created = bool((stored.get("facts") or {}).get("contact_created"))
    joined = bool(context.list_id) and (stored.get("properties") or {}).get("joined_list") is True
    return Upserted(contact_id, "created" if created else "updated", None, joined_list=joined)


def _suppression(person: ImportedPerson, status: SubscriptionStatus, now: datetime) -> dict[str, Any]:
    """Profile attributes that come with an imported status: the reason a suppression was made."""
    if status == SubscriptionStatus.BOUNCED and person.inactive is not None:
        return {"suppression": {"by": "import", "at": clock.iso(now), **person.inactive}}
    if status == SubscriptionStatus.UNSUBSCRIBED:
        return {"unsubscribed_at": clock.iso(now)}
    return {}


def _create(context: ImportContext, person: ImportedPerson, *, erased: bool | None) -> Upserted:
    if erased if erased is not None else contacts_store.is_erased_address(person.email.key):
        raise ErasedAddress
    now = clock.now()
    status = status_after_import(None, person)
    contact = Contact(
        contact_id=new_id("c"),
        email=person.email.address,
        email_key=person.email.key,
        status=status,
        fields=dict(person.fields),
        lists=[context.list_id] if context.list_id else [],
        created_at=now,
        updated_at=now,
    )
    activity = activity_for(context, person, contact.contact_id)
    activity.facts = ActivityFacts(contact_created=True, status=str(status))
    activity.properties["fields"] = dict(person.fields)
    if context.list_id:
        activity.properties["joined_list"] = True
    items = [
        *contacts_store.put_new_contact(contact, extra=_suppression(person, status, now)),
        contacts_store.put_activity(activity),
    ]
    if context.list_id:
        items.append(_list_row(context.list_id, contact.contact_id, now))
    try:
        dynamo.transact_write(items)
    except dynamo.TransactionCancelled:
        raise _LostRace from None  # the guard: someone else created this email meanwhile
    return Upserted(
        contact.contact_id, "created", activity, joined_list=bool(context.list_id), contact=contact
    )


def _update(
    context: ImportContext, person: ImportedPerson, contact_id: str, known: Contact | None
) -> Upserted:
    """``known``: the profile as read with the batch's addresses (stale, the write's status guard
    fails and the retry reads it afresh)."""
    if context.resuming and (earlier := _earlier(context, person, contact_id)) is not None:
        return earlier
    contact = known or contacts_store.get_contact(contact_id, consistent=True)
    if contact is None:
        raise _LostRace
    now = clock.now()
    fields = changed_fields(contact.fields, person.fields)
    status = status_after_import(contact.status, person)
    joining = context.list_id if context.list_id and context.list_id not in contact.lists else None
    if not fields and status == contact.status and not joining:
        return Upserted(contact_id, "unchanged", None, contact=contact)
    activity = activity_for(context, person, contact_id)
    activity.facts = ActivityFacts(contact_created=False, status=str(status))
    activity.properties["fields"] = fields
    if joining:
        activity.properties["joined_list"] = True
    items = [
        contacts_store.update_returning_contact(
            contact,
            fields=fields,
            status=str(status),
            ma_campaign_id=None,  # an import never joins an MA campaign
            consent=None,
            now=now,
            add_list=joining,
            also_set=_suppression(person, status, now) if status != contact.status else None,
        ),
        contacts_store.put_activity(activity),
    ]
    if joining:
        items.append(_list_row(joining, contact_id, now))
    try:
        dynamo.transact_write(items)
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(1):  # the row's activity exists: an earlier run did this row
            earlier = _earlier(context, person, contact_id)
            if earlier is not None:
                return earlier
        raise _LostRace from None
    updated = contact.model_copy(
        update={
            "fields": {**contact.fields, **fields},
            "status": status,
            "lists": [*contact.lists, joining] if joining else contact.lists,
            "updated_at": now,
            # a merge leaves the version alone (the processor's state); joining a list moves it
            "version": contact.version + 1 if joining else contact.version,
        }
    )
    return Upserted(contact_id, "updated", activity, joined_list=bool(joining), contact=updated)


def _list_row(list_id: str, contact_id: str, now: datetime) -> dynamo.TransactItem:
    return campaigns_store.list_membership_put(list_id, contact_id, source="import", now=clock.iso(now))
