"""The Contacts table: profiles, the email uniqueness guard, activities, submission replies.

Layout (pk / sk):
- ``CONTACT#<id>`` / ``PROFILE``            the contact
- ``EMAIL#<email key>`` / ``CONTACT``       one contact per email: created with the profile in one transaction
- ``CONTACT#<id>`` / ``ACT#<time>#<act id>`` the activity history; GSI1 ``PENDING#<shard>`` until processed
- ``CONTACT#<id>`` / ``APPLIED#<act id>``   the claim that an activity id was applied (exactly once, by id)
- ``CONTACT#<id>`` / ``RECORDED#<act id>``  the claim that a change recorded as this activity was made
                                            (a CRM membership change with a change id: once, by id)
- ``SUBMISSION#<form>#<sha256 of key>`` / ``REPLY``  the first reply to an idempotent submission (24 h)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from leadflow import clock
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Contact
from leadflow.ids import shard_of
from leadflow.settings import get_settings
from leadflow.store import dynamo
from leadflow.store.dynamo import TransactItem

PROFILE = "PROFILE"
PENDING_SHARDS = 8
SUBMISSION_REPLY_TTL = timedelta(hours=24)


def _table() -> str:
    return get_settings().contacts_table


def contact_pk(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def email_pk(email_key: str) -> str:
    return f"EMAIL#{email_key}"


def activity_sk(activity: Activity) -> str:
    return f"ACT#{clock.iso(activity.occurred_at)}#{activity.activity_id}"


def applied_sk(activity_id: str) -> str:
    return f"APPLIED#{activity_id}"


def submission_pk(form_id: str, key: str) -> str:
    """The key is the client's (an Idempotency-Key or submission_id): hashed, so that no client value
    of any length or alphabet reaches DynamoDB's 2,048-byte partition key limit."""
    return f"SUBMISSION#{form_id}#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


# ---------------------------------------------------------------- reads


def find_contact_id(email_key: str, *, consistent: bool = False) -> str | None:
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": email_pk(email_key), "sk": "CONTACT"}),
        ConsistentRead=consistent,
        ProjectionExpression="contact_id",
    )
    item = response.get("Item")
    return dynamo.deserialize(item)["contact_id"] if item else None


@dataclass(frozen=True, slots=True)
class AddressState:
    """What the table knows of one address: its contact (the email guard, and the profile it
    points to) and whether it was erased."""

    contact_id: str | None
    erased: bool
    contact: Contact | None = None


def address_states(email_keys: Sequence[str]) -> dict[str, AddressState]:
    """``AddressState`` of every key, in batch reads, consistent, as ``find_contact_id(consistent=True)``
    and ``get_contact(consistent=True)`` are: first two keys an address (the guard and the erasure
    marker), then the profiles of the contacts found. An import's chunk reads its rows this way,
    50 to 100 keys a request, instead of two reads a new row and three an existing one."""
    keys: list[dict[str, str]] = []
    for email_key in dict.fromkeys(email_keys):
        keys += [{"pk": email_pk(email_key), "sk": "CONTACT"}, {"pk": erased_pk(email_key), "sk": "ERASED"}]
    found = {(item["pk"], item["sk"]): item for item in dynamo.batch_get(_table(), keys, consistent=True)}
    guards = {key[0]: item["contact_id"] for key, item in found.items() if key[1] == "CONTACT"}
    profiles = {
        item["contact_id"]: Contact.model_validate(item)
        for item in dynamo.batch_get(
            _table(),
            [{"pk": contact_pk(contact_id), "sk": PROFILE} for contact_id in dict.fromkeys(guards.values())],
            consistent=True,
        )
    }
    states = {}
    for email_key in email_keys:
        contact_id = guards.get(email_pk(email_key))
        states[email_key] = AddressState(
            contact_id=contact_id,
            erased=(erased_pk(email_key), "ERASED") in found,
            contact=profiles.get(contact_id) if contact_id else None,
        )
    return states


def get_contact(contact_id: str, *, consistent: bool = False) -> Contact | None:
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": PROFILE}),
        ConsistentRead=consistent,
    )
    item = response.get("Item")
    return Contact.model_validate(dynamo.deserialize(item)) if item else None


def recent_activities(contact_id: str, limit: int = 50) -> list[Activity]:
    response = dynamo.client().query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :act)",
        ExpressionAttributeValues=dynamo.serialize_values({":pk": contact_pk(contact_id), ":act": "ACT#"}),
        ScanIndexForward=False,
        Limit=limit,
    )
    return [_activity_from_item(dynamo.deserialize(item)) for item in response.get("Items", [])]


def get_submission_reply(form_id: str, key: str) -> dict[str, Any] | None:
    """The stored reply of an earlier submission with this key, unless it has expired."""
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": submission_pk(form_id, key), "sk": "REPLY"}),
        ConsistentRead=True,
    )
    item = response.get("Item")
    if not item:
        return None
    record = dynamo.deserialize(item)
    if record["expires_at"] < int(clock.now().timestamp()):
        return None
    return record


# ---------------------------------------------------------------- transaction items


def put_new_contact(contact: Contact, *, extra: dict[str, Any] | None = None) -> list[TransactItem]:
    """The guard and the profile, both conditional: a second creator fails on the guard.
    ``extra`` holds profile attributes the model does not carry (an imported ``suppression``)."""
    profile = {
        "pk": contact_pk(contact.contact_id),
        "sk": PROFILE,
        **(extra or {}),
        **contact.model_dump(mode="json"),
    }
    guard = {
        "pk": email_pk(contact.email_key),
        "sk": "CONTACT",
        "contact_id": contact.contact_id,
        "created_at": clock.iso(contact.created_at),
    }
    return [
        {
            "Put": {
                "TableName": _table(),
                "Item": dynamo.serialize(guard),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": _table(),
                "Item": dynamo.serialize(profile),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]


def update_returning_contact(
    contact: Contact,
    *,
    fields: dict[str, Any],
    status: str,
    ma_campaign_id: str | None,
    consent: dict[str, Any] | None,
    now: datetime,
    add_list: str | None = None,
    also_set: dict[str, Any] | None = None,
) -> TransactItem:
    """Merges a submission (or an imported row) into an existing profile.

    Guarded only by what the caller read and decided on: the subscription status (a
    concurrent unsubscribe must not be overwritten) and, when joining, that no MA campaign
    was set meanwhile. Field merges of concurrent submissions commute, so they never
    conflict; ``version`` guards the processor's derived state (score, tags, stage) and is
    left alone here.
    """
    names: dict[str, str] = {"#status": "status"}
    values: dict[str, Any] = {":now": clock.iso(now), ":status": status, ":read_status": str(contact.status)}
    sets = ["updated_at = :now", "#status = :status"]
    if fields:
        names["#fields"] = "fields"
    for index, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = name
        values[f":f{index}"] = value
        sets.append(f"#fields.#f{index} = :f{index}")
    condition = "attribute_exists(pk) AND #status = :read_status"
    if ma_campaign_id:
        values[":campaign"] = ma_campaign_id
        sets.append("ma_campaign_id = :campaign, ma_campaign_joined_at = :now")
        condition += " AND attribute_not_exists(ma_campaign_id)"
    if consent:
        values[":consent"] = consent
        sets.append("consent = :consent")
    for index, (name, value) in enumerate(sorted((also_set or {}).items())):
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        sets.append(f"#s{index} = :s{index}")
    if add_list:
        # an import joining a static list: the processor writes ``lists`` whole under ``version``,
        # so the version moves on and its write of an older read retries instead of dropping the list
        names.update({"#lists": "lists", "#version": "version"})
        values.update({":list": add_list, ":joined": [add_list], ":none": [], ":one": 1})
        sets += ["#lists = list_append(if_not_exists(#lists, :none), :joined)", "#version = #version + :one"]
        condition += " AND NOT contains(#lists, :list)"
    return {
        "Update": {
            "TableName": _table(),
            "Key": dynamo.serialize({"pk": contact_pk(contact.contact_id), "sk": PROFILE}),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": dynamo.serialize_values(values),
        }
    }


def recorded_activity(contact_id: str, activity: Activity) -> dict[str, Any] | None:
    """The stored copy of an activity with a stable id and time (an import's row), or None."""
    item = (
        dynamo.client()
        .get_item(
            TableName=_table(),
            Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": activity_sk(activity)}),
            ConsistentRead=True,
            ProjectionExpression="facts, properties",
        )
        .get("Item")
    )
    return dynamo.deserialize(item) if item else None


def put_activity(activity: Activity) -> TransactItem:
    """The activity on the contact's history, marked pending until the processor applies it."""
    assert activity.contact_id, "only identified activities live on a contact"
    item = {
        "pk": contact_pk(activity.contact_id),
        "sk": activity_sk(activity),
        **activity.model_dump(mode="json", exclude_defaults=True),
        "gsi1pk": f"PENDING#{shard_of(activity.activity_id, PENDING_SHARDS)}",
        # its place in the outbox is when it was stored: an event that states an older time is
        # not lost the moment it arrives
        "gsi1sk": f"{clock.iso(clock.now())}#{activity.activity_id}",
    }
    return {
        "Put": {
            "TableName": _table(),
            "Item": dynamo.serialize(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def claim_recorded(activity: Activity, now: datetime) -> TransactItem:
    """Claims that the change ``activity`` records was made, by its id alone (its history key
    holds a time, so a replay at another time would not collide there)."""
    assert activity.contact_id, "only identified activities live on a contact"
    item = {
        "pk": contact_pk(activity.contact_id),
        "sk": f"RECORDED#{activity.activity_id}",
        "activity_sk": activity_sk(activity),
        "recorded_at": clock.iso(now),
    }
    return {
        "Put": {
            "TableName": _table(),
            "Item": dynamo.serialize(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def put_submission_reply(form_id: str, key: str, payload_hash: str, reply: dict[str, Any]) -> TransactItem:
    """Claims the idempotency key; expired claims (TTL deletes lazily) count as free."""
    now = clock.now()
    item = {
        "pk": submission_pk(form_id, key),
        "sk": "REPLY",
        "payload_hash": payload_hash,
        "reply": reply,
        "created_at": clock.iso(now),
        "expires_at": int((now + SUBMISSION_REPLY_TTL).timestamp()),
    }
    return {
        "Put": {
            "TableName": _table(),
            "Item": dynamo.serialize(item),
            "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
            "ExpressionAttributeValues": dynamo.serialize_values({":now": int(now.timestamp())}),
        }
    }


def _activity_from_item(item: dict[str, Any]) -> Activity:
    fields = {name: item[name] for name in Activity.model_fields if name in item}
    return Activity.model_validate(fields)


# ---------------------------------------------------------------- processing


def ledger_sk(entry_time: str, activity_id: str, rule_id: str) -> str:
    return f"SCORE#{entry_time}#{activity_id}#{rule_id}"


def apply_items(
    contact: Contact,
    activity: Activity,
    *,
    changes: dict[str, Any],
    ledger: list[dict[str, Any]],
    events: list[dict[str, Any]],
    now: datetime,
    removals: list[str] | None = None,
) -> list[TransactItem]:
    """The conditional writes that apply one activity to one contact, exactly once.

    The first item claims the activity id (``APPLIED#<id>``) on condition that nobody did before:
    by id alone, not by the history key, because a retried tracking event with an ``event_id`` and
    no stated time arrives with a new server time (so a new ``ACT#<time>#<id>`` key) yet is the
    same event. The activity is written with ``applied_at`` beside it, the profile on condition
    that nobody changed it since it was read. Ledger rows ride in the same transaction, so a
    redelivery or a retry changes nothing. (Callers read a failure of item 0 as "applied before".)
    """
    claim = {
        "pk": contact_pk(contact.contact_id),
        "sk": applied_sk(activity.activity_id),
        "activity_sk": activity_sk(activity),
        "applied_at": clock.iso(now),
    }
    applied = {
        "pk": contact_pk(contact.contact_id),
        "sk": activity_sk(activity),
        **activity.model_dump(mode="json", exclude_defaults=True),
        "contact_id": contact.contact_id,
        "applied_at": clock.iso(now),
        "events": events,
    }
    items: list[TransactItem] = [
        {
            "Put": {
                "TableName": _table(),
                "Item": dynamo.serialize(claim),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        profile_update(contact, changes, now, removals=removals),
        {"Put": {"TableName": _table(), "Item": dynamo.serialize(applied)}},
    ]
    items += [put_ledger_row(contact.contact_id, row) for row in ledger]
    return items


def put_ledger_row(contact_id: str, row: dict[str, Any]) -> TransactItem:
    item = {
        "pk": contact_pk(contact_id),
        "sk": ledger_sk(row["occurred_at"], row["activity_id"], row["rule_id"]),
        **row,
    }
    return {"Put": {"TableName": _table(), "Item": dynamo.serialize(item)}}


def profile_update(
    contact: Contact,
    changes: dict[str, Any],
    now: datetime,
    *,
    removals: list[str] | None = None,
    extra_condition: tuple[str, dict[str, Any]] | None = None,
) -> TransactItem:
    """Sets derived state (score, tags, stage, ...) on a profile, guarded by the version read."""
    names = {"#version": "version"}
    values: dict[str, Any] = {":expected": contact.version, ":one": 1, ":now": clock.iso(now)}
    sets = ["#version = #version + :one", "updated_at = :now"]
    for index, (name, value) in enumerate(sorted(changes.items())):
        names[f"#c{index}"] = name
        values[f":c{index}"] = value
        sets.append(f"#c{index} = :c{index}")
    expression = "SET " + ", ".join(sets)
    if removals:
        for index, name in enumerate(removals):
            names[f"#r{index}"] = name
        expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removals)))
    condition = "#version = :expected"
    if extra_condition:
        condition += f" AND {extra_condition[0]}"
        values.update(extra_condition[1])
    return {
        "Update": {
            "TableName": _table(),
            "Key": dynamo.serialize({"pk": contact_pk(contact.contact_id), "sk": PROFILE}),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": dynamo.serialize_values(values),
        }
    }


def change_subscription(
    contact: Contact, changes: dict[str, Any], now: datetime, *, with_items: list[TransactItem]
) -> bool:
    """Writes a subscription change (status, consent, ...) with ``with_items`` in one transaction,
    on condition that the profile is still the version read. False when it changed meanwhile
    (the caller reads again and decides again)."""
    try:
        dynamo.transact_write([profile_update(contact, changes, now), *with_items])
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(0) or cancelled.conflicted:
            return False
        raise
    return True


def applied_events(contact_id: str, activity: Activity) -> list[dict[str, Any]] | None:
    """The events an already-applied activity announced (to announce again after a failure).

    Read where the first application stored them: the claim names that history key, which
    differs from this copy's when a retry arrived later with a new server time."""
    claim = (
        dynamo.client()
        .get_item(
            TableName=_table(),
            Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": applied_sk(activity.activity_id)}),
            ConsistentRead=True,
            ProjectionExpression="activity_sk",
        )
        .get("Item")
    )
    sk = dynamo.deserialize(claim)["activity_sk"] if claim else activity_sk(activity)
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": sk}),
        ConsistentRead=True,
        ProjectionExpression="applied_at, events",
    )
    item = response.get("Item")
    if not item:
        return None
    record = dynamo.deserialize(item)
    return record.get("events", []) if record.get("applied_at") else None


def score_ledger(contact_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ledger rows first: each rule that fired, its points, its activity."""
    response = dynamo.client().query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :score)",
        ExpressionAttributeValues=dynamo.serialize_values(
            {":pk": contact_pk(contact_id), ":score": "SCORE#"}
        ),
        ScanIndexForward=False,
        Limit=limit,
    )
    return [
        {key: value for key, value in dynamo.deserialize(item).items() if key not in ("pk", "sk")}
        for item in response.get("Items", [])
    ]


# ---------------------------------------------------------------- anonymous visitors


def anonymous_pk(anonymous_id: str) -> str:
    return f"ANON#{anonymous_id}"


def put_anonymous_activity(activity: Activity, *, ttl: timedelta) -> bool:
    """Keeps a not-yet-identified visitor's activity until they convert; False if already kept."""
    assert activity.anonymous_id
    item = {
        "pk": anonymous_pk(activity.anonymous_id),
        "sk": activity_sk(activity),
        **activity.model_dump(mode="json", exclude_defaults=True),
        "expires_at": int((activity.occurred_at + ttl).timestamp()),
    }
    try:
        dynamo.client().put_item(
            TableName=_table(), Item=dynamo.serialize(item), ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def anonymous_activities(anonymous_id: str) -> list[Activity]:
    activities: list[Activity] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :act)",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":pk": anonymous_pk(anonymous_id), ":act": "ACT#"}
        ),
    }
    while True:
        response = dynamo.client().query(**kwargs)
        activities += [_activity_from_item(dynamo.deserialize(item)) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return activities
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def linked_contact(anonymous_id: str) -> str | None:
    """The contact an anonymous visitor turned out to be, once they converted."""
    response = dynamo.client().get_item(
        TableName=_table(), Key=dynamo.serialize({"pk": anonymous_pk(anonymous_id), "sk": "CONTACT"})
    )
    item = response.get("Item")
    return dynamo.deserialize(item)["contact_id"] if item else None


def link_anonymous(anonymous_id: str, contact_id: str, now: datetime) -> None:
    """First link wins: a shared browser does not move history between people."""
    try:
        dynamo.client().put_item(
            TableName=_table(),
            Item=dynamo.serialize(
                {
                    "pk": anonymous_pk(anonymous_id),
                    "sk": "CONTACT",
                    "contact_id": contact_id,
                    "linked_at": clock.iso(now),
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if not dynamo.is_condition_failure(error):
            raise


# ---------------------------------------------------------------- due work (GSI1)

DECAY_SHARDS = 16


def decay_key(contact_id: str, due: datetime) -> dict[str, str]:
    """GSI1 keys that list a contact under decay, by the time its next decay step is due."""
    return {
        "gsi1pk": f"DECAY#{shard_of(contact_id, DECAY_SHARDS):02d}",
        "gsi1sk": f"{clock.iso(due)}#{contact_id}",
    }


def _due_index(partition: str, before: str, limit: int, *, raw: bool = False) -> list[dict[str, Any]]:
    """Up to ``limit`` items of a GSI1 partition sorted before ``before`` (``raw``: as DynamoDB
    typed them, to be written back unchanged)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :before",
        "ExpressionAttributeValues": dynamo.serialize_values({":pk": partition, ":before": before}),
        "Limit": limit,
    }
    while len(items) < limit:
        response = dynamo.client().query(**kwargs)
        items += [item if raw else dynamo.deserialize(item) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            break
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return items[:limit]


def decay_due(shard: int, now: datetime, limit: int = 500) -> list[tuple[Contact, datetime]]:
    """Contacts whose next decay step is due, with that time; only contacts above the floor
    are in the index, so the query costs what is due."""
    rows = _due_index(f"DECAY#{shard:02d}", clock.iso(now), limit)
    return [(Contact.model_validate(row), clock.parse_iso(row["gsi1sk"].split("#", 1)[0])) for row in rows]


@dataclass(frozen=True, slots=True)
class PendingActivity:
    """An activity in the outbox, how many times the sweep has already re-sent it, and its item
    as stored (the sweep writes it back with its new place)."""

    activity: Activity
    resent: int
    item: dict[str, Any]


def pending_activities(shard: int, older_than: datetime, limit: int = 500) -> list[PendingActivity]:
    """Activities stored but not yet applied whose place in the outbox (the time they were stored,
    or the sweep last put them back) is before ``older_than``: what the sweep re-enqueues."""
    pending = []
    for item in _due_index(f"PENDING#{shard}", clock.iso(older_than), limit, raw=True):
        row = dynamo.deserialize(item)
        pending.append(PendingActivity(_activity_from_item(row), int(row.get("outbox_resent", 0)), item))
    return pending


def defer_pending(pending: PendingActivity, until: datetime) -> bool:
    """Moves a re-sent activity's place in the outbox to ``until`` and counts the resend, so the
    sweeps that follow pass it by while the copy just sent waits in a backlog. False when the
    processor applied it meanwhile (its write drops the outbox keys; nothing to move).

    A conditional put of the item as read, not an update: nothing but its capture, its
    processing and an erasure writes a pending activity, each of which the condition notices."""
    activity = pending.activity
    shard = shard_of(activity.activity_id, PENDING_SHARDS)
    item = {
        **pending.item,
        "gsi1sk": {"S": f"{clock.iso(until)}#{activity.activity_id}"},
        "outbox_resent": {"N": str(pending.resent + 1)},
    }
    try:
        dynamo.client().put_item(
            TableName=_table(),
            Item=item,
            ConditionExpression="gsi1pk = :pending",
            ExpressionAttributeValues={":pending": {"S": f"PENDING#{shard}"}},
        )
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


# ---------------------------------------------------------------- simulation (admin, off the hot path)


def sample_active_contacts(since: datetime, limit: int) -> tuple[list[Contact], bool]:
    """Up to ``limit`` contacts active since ``since``, and whether the table held more.

    A filtered Scan: only the admin's "simulate before apply" uses it, never a per-event path.
    """
    contacts: list[Contact] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "FilterExpression": "sk = :profile AND last_activity_at >= :since",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":profile": PROFILE, ":since": clock.iso(since)}
        ),
    }
    while True:
        response = dynamo.client().scan(**kwargs)
        for item in response.get("Items", []):
            if len(contacts) == limit:
                return contacts, True
            contacts.append(Contact.model_validate(dynamo.deserialize(item)))
        if "LastEvaluatedKey" not in response:
            return contacts, False
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _between(contact_id: str, prefix: str, since: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":pk": contact_pk(contact_id), ":from": f"{prefix}{clock.iso(since)}", ":to": f"{prefix}~"}
        ),
    }
    while True:
        response = dynamo.client().query(**kwargs)
        rows += [dynamo.deserialize(item) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return rows
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def activities_since(contact_id: str, since: datetime) -> list[Activity]:
    """A contact's applied activities since ``since``, oldest first."""
    return [_activity_from_item(row) for row in _between(contact_id, "ACT#", since) if row.get("applied_at")]


def ledger_since(contact_id: str, since: datetime) -> list[dict[str, Any]]:
    return _between(contact_id, "SCORE#", since)


def profiles_page(cursor: dict[str, Any] | None, limit: int) -> tuple[list[Contact], dict[str, Any] | None]:
    """One page of profiles for background rebuilds (a paginated Scan, never an event path)."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "FilterExpression": "sk = :profile",
        "ExpressionAttributeValues": dynamo.serialize_values({":profile": PROFILE}),
        "Limit": limit,
    }
    if cursor:
        kwargs["ExclusiveStartKey"] = dynamo.serialize(cursor)
    response = dynamo.client().scan(**kwargs)
    contacts = [Contact.model_validate(dynamo.deserialize(item)) for item in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return contacts, (dynamo.deserialize(last) if last else None)


# ---------------------------------------------------------------- suppression (SES bounces and complaints)


def suppress(contact_id: str, *, expected: str, status: str, reason: dict[str, Any], now: datetime) -> bool:
    """Sets a suppression status (``bounced``, ``complained``) with its reason, on condition that the
    status is still ``expected`` (what the caller read and decided on). False when it changed
    meanwhile, or the contact is gone: the caller reads again and decides again. The version is
    bumped so a processor that read the old profile retries on the new one."""
    try:
        dynamo.client().update_item(
            TableName=_table(),
            Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": PROFILE}),
            UpdateExpression=(
                "SET #status = :status, suppression = :reason, updated_at = :now, #version = #version + :one"
            ),
            ConditionExpression="attribute_exists(pk) AND #status = :expected",
            ExpressionAttributeNames={"#status": "status", "#version": "version"},
            ExpressionAttributeValues=dynamo.serialize_values(
                {
                    ":status": status,
                    ":reason": reason,
                    ":now": clock.iso(now),
                    ":one": 1,
                    ":expected": expected,
                }
            ),
        )
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


# ---------------------------------------------------------------- privacy: export and erasure


def erased_pk(email_key: str) -> str:
    """An erased address, hashed: kept so that an import cannot bring the person back."""
    return f"ERASED#{hashlib.sha256(email_key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def contact_partition(contact_id: str) -> list[dict[str, Any]]:
    """Every item stored under the contact (profile, history, ledger, claims, enrollments, ...)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": dynamo.serialize_values({":pk": contact_pk(contact_id)}),
        "ConsistentRead": True,
    }
    while True:
        response = dynamo.client().query(**kwargs)
        items += [dynamo.deserialize(item) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


ERASURE_RECORD_TTL = timedelta(days=30)


def erasure_record_pk(contact_id: str) -> str:
    return f"ERASEDID#{contact_id}"


def erasure_record(contact_id: str) -> dict[str, Any] | None:
    """That this contact id was erased, and when: a repeated erasure finishes and answers the same
    way (the id is random and says nothing about the person; kept 30 days)."""
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": erasure_record_pk(contact_id), "sk": "ERASED"}),
        ConsistentRead=True,
    )
    item = response.get("Item")
    return dynamo.deserialize(item) if item else None


def erasure_items(contact: Contact, now: datetime) -> list[TransactItem]:
    """The first, atomic step of an erasure: the profile and the email guard go, the hashed
    tombstone comes. From here on every path finds no contact (and no email leads to one)."""
    tombstone = {"pk": erased_pk(contact.email_key), "sk": "ERASED", "erased_at": clock.iso(now)}
    record = {
        "pk": erasure_record_pk(contact.contact_id),
        "sk": "ERASED",
        "erased_at": clock.iso(now),
        "expires_at": int((now + ERASURE_RECORD_TTL).timestamp()),
    }
    return [
        {"Put": {"TableName": _table(), "Item": dynamo.serialize(record)}},
        {
            "Delete": {
                "TableName": _table(),
                "Key": dynamo.serialize({"pk": contact_pk(contact.contact_id), "sk": PROFILE}),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {
            "Delete": {
                "TableName": _table(),
                "Key": dynamo.serialize({"pk": email_pk(contact.email_key), "sk": "CONTACT"}),
                "ConditionExpression": "attribute_not_exists(pk) OR contact_id = :contact",
                "ExpressionAttributeValues": dynamo.serialize_values({":contact": contact.contact_id}),
            }
        },
        {"Put": {"TableName": _table(), "Item": dynamo.serialize(tombstone)}},
    ]


def is_erased_address(email_key: str) -> bool:
    response = dynamo.client().get_item(
        TableName=_table(), Key=dynamo.serialize({"pk": erased_pk(email_key), "sk": "ERASED"})
    )
    return "Item" in response


def anonymous_partition(anonymous_id: str) -> list[dict[str, Any]]:
    """A visitor's kept activity and link (the contact's erasure removes those that lead to it)."""
    response = dynamo.client().query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=dynamo.serialize_values({":pk": anonymous_pk(anonymous_id)}),
    )
    return [dynamo.deserialize(item) for item in response.get("Items", [])]


def delete_items(keys: list[tuple[str, str]]) -> None:
    """Deletes items of this table by key, a transaction of up to 100 at a time."""
    for start in range(0, len(keys), 100):
        dynamo.transact_write(
            [
                {"Delete": {"TableName": _table(), "Key": dynamo.serialize({"pk": pk, "sk": sk})}}
                for pk, sk in keys[start : start + 100]
            ]
        )
