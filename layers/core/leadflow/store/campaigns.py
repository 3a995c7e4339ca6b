"""The Campaigns table: definitions (versioned) and campaign membership.

Layout (pk / sk):
- ``DEFS`` / ``ACTIVE``                     the active definitions bundle (compressed JSON) and its version
- ``DEFS`` / ``V#<version>``                every bundle ever applied, for audit and running enrollments
- ``MEMBERS#<campaign>#<shard>`` / ``CONTACT#<id>``
                                            one membership per (campaign, contact); GSI1 ``CONTACT#<id>`` /
                                            ``CAMPAIGN#<campaign>`` lists a contact's campaigns. The member
                                            index of one campaign spreads over MEMBER_SHARDS partitions so
                                            a viral form never writes one key a thousand times a second.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow import clock
from leadflow.errors import Conflict
from leadflow.ids import shard_of
from leadflow.settings import get_settings
from leadflow.store import dynamo
from leadflow.store.dynamo import TransactItem

MEMBER_SHARDS = 16
DEFS = "DEFS"


def _table() -> str:
    return get_settings().campaigns_table


# ---------------------------------------------------------------- membership


def members_pk(campaign_id: str, contact_id: str) -> str:
    return f"MEMBERS#{campaign_id}#{shard_of(contact_id, MEMBER_SHARDS):02d}"


@dataclass(frozen=True, slots=True)
class Membership:
    campaign_id: str
    contact_id: str
    status: str
    source: str
    joined_at: str
    responded: bool = False
    responded_at: str | None = None
    form_id: str | None = None


def put_membership(membership: Membership) -> TransactItem:
    """A new membership; fails if the contact is already a member of that campaign."""
    item = {
        "pk": members_pk(membership.campaign_id, membership.contact_id),
        "sk": f"CONTACT#{membership.contact_id}",
        "gsi1pk": f"CONTACT#{membership.contact_id}",
        "gsi1sk": f"CAMPAIGN#{membership.campaign_id}",
        "campaign_id": membership.campaign_id,
        "contact_id": membership.contact_id,
        "status": membership.status,
        "source": membership.source,
        "joined_at": membership.joined_at,
        "responded": membership.responded,
        "responded_at": membership.responded_at,
        "form_id": membership.form_id,
    }
    return {
        "Put": {
            "TableName": _table(),
            "Item": dynamo.serialize(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def memberships_of(contact_id: str) -> list[Membership]:
    response = dynamo.client().query(
        TableName=_table(),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :campaign)",
        ExpressionAttributeValues=dynamo.serialize_values(
            {":pk": f"CONTACT#{contact_id}", ":campaign": "CAMPAIGN#"}
        ),
    )
    memberships = []
    for raw in response.get("Items", []):
        item = dynamo.deserialize(raw)
        memberships.append(
            Membership(
                campaign_id=item["campaign_id"],
                contact_id=item["contact_id"],
                status=item["status"],
                source=item["source"],
                joined_at=item["joined_at"],
                responded=bool(item.get("responded")),
                responded_at=item.get("responded_at"),
                form_id=item.get("form_id"),
            )
        )
    return memberships


# ---------------------------------------------------------------- definitions


@dataclass(frozen=True, slots=True)
class StoredDefinitions:
    version: int
    bundle: dict[str, Any]
    applied_at: str
    applied_by: str | None


def _pack(bundle: dict[str, Any]) -> bytes:
    import json

    return zlib.compress(json.dumps(bundle, separators=(",", ":"), sort_keys=True).encode(), level=6)


def _unpack(blob: bytes) -> dict[str, Any]:
    import json

    return json.loads(zlib.decompress(blob))


def _stored_from_item(item: dict[str, Any]) -> StoredDefinitions:
    raw = item["bundle"]
    blob = raw.value if hasattr(raw, "value") else bytes(raw)
    return StoredDefinitions(
        version=int(item["version"]),
        bundle=_unpack(blob),
        applied_at=item["applied_at"],
        applied_by=item.get("applied_by"),
    )


def get_active_definitions(*, consistent: bool = False) -> StoredDefinitions | None:
    response = dynamo.client().get_item(
        TableName=_table(), Key=dynamo.serialize({"pk": DEFS, "sk": "ACTIVE"}), ConsistentRead=consistent
    )
    item = response.get("Item")
    return _stored_from_item(dynamo.deserialize(item)) if item else None


def get_definitions_version(version: int) -> StoredDefinitions | None:
    """A bundle as it was applied (``V#<version>``): running enrollments may finish on it."""
    response = dynamo.client().get_item(
        TableName=_table(), Key=dynamo.serialize({"pk": DEFS, "sk": f"V#{version:08d}"})
    )
    item = response.get("Item")
    return _stored_from_item(dynamo.deserialize(item)) if item else None


def save_definitions(
    bundle: dict[str, Any], *, expected_version: int, applied_by: str | None, now: datetime
) -> StoredDefinitions:
    """Stores the bundle as the next version and makes it active, in one transaction.

    ``expected_version`` is the active version the caller validated against (0 for none):
    two admins applying at once cannot silently overwrite each other.
    """
    version = expected_version + 1
    blob = _pack(bundle)
    applied_at = clock.iso(now)
    record = {"version": version, "bundle": blob, "applied_at": applied_at, "applied_by": applied_by}
    active_condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :expected"
    active_values = {} if expected_version == 0 else {":expected": expected_version}
    update: dict[str, Any] = {
        "Put": {
            "TableName": _table(),
            "Item": dynamo.serialize({"pk": DEFS, "sk": "ACTIVE", **record}),
            "ConditionExpression": active_condition,
        }
    }
    if active_values:
        update["Put"]["ExpressionAttributeValues"] = dynamo.serialize_values(active_values)
    try:
        dynamo.transact_write(
            [
                {
                    "Put": {
                        "TableName": _table(),
                        "Item": dynamo.serialize({"pk": DEFS, "sk": f"V#{version:08d}", **record}),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                update,
            ]
        )
    except dynamo.TransactionCancelled as cancelled:
        raise Conflict(
            f"definitions changed while applying (expected version {expected_version}); fetch and retry"
        ) from cancelled
    return StoredDefinitions(version=version, bundle=bundle, applied_at=applied_at, applied_by=applied_by)


# ---------------------------------------------------------------- lists and rule-made memberships

LIST_SHARDS = 16


def list_members_pk(list_id: str, contact_id: str) -> str:
    return f"LIST#{list_id}#{shard_of(contact_id, LIST_SHARDS):02d}"


def list_membership_put(list_id: str, contact_id: str, *, source: str, now: str) -> TransactItem:
    item = {
        "pk": list_members_pk(list_id, contact_id),
        "sk": f"CONTACT#{contact_id}",
        "gsi1pk": f"CONTACT#{contact_id}",
        "gsi1sk": f"LIST#{list_id}",
        "list_id": list_id,
        "contact_id": contact_id,
        "source": source,
        "joined_at": now,
    }
    return {"Put": {"TableName": _table(), "Item": dynamo.serialize(item)}}


def list_membership_delete(list_id: str, contact_id: str) -> TransactItem:
    key = {"pk": list_members_pk(list_id, contact_id), "sk": f"CONTACT#{contact_id}"}
    return {"Delete": {"TableName": _table(), "Key": dynamo.serialize(key)}}


def membership_upsert(membership: Membership) -> TransactItem:
    """Adds a membership unless one exists (an existing status is kept): never fails a transaction.

    ``responded`` (and ``responded_at``) come from the membership, so a status the campaign marks
    ``responded: true`` is recorded as a response from the start."""
    key = {
        "pk": members_pk(membership.campaign_id, membership.contact_id),
        "sk": f"CONTACT#{membership.contact_id}",
    }
    values = {
        ":gsi1pk": f"CONTACT#{membership.contact_id}",
        ":gsi1sk": f"CAMPAIGN#{membership.campaign_id}",
        ":campaign": membership.campaign_id,
        ":contact": membership.contact_id,
        ":status": membership.status,
        ":source": membership.source,
        ":joined": membership.joined_at,
        ":responded": membership.responded,
    }
    sets = ", ".join(
        f"{name} = if_not_exists({name}, {value})"
        for name, value in [
            ("gsi1pk", ":gsi1pk"),
            ("gsi1sk", ":gsi1sk"),
            ("campaign_id", ":campaign"),
            ("contact_id", ":contact"),
            ("#status", ":status"),
            ("#source", ":source"),
            ("joined_at", ":joined"),
            ("responded", ":responded"),
        ]
    )
    if membership.responded_at:
        values[":responded_at"] = membership.responded_at
        sets += ", responded_at = if_not_exists(responded_at, :responded_at)"
    return {
        "Update": {
            "TableName": _table(),
            "Key": dynamo.serialize(key),
            "UpdateExpression": "SET " + sets,
            "ExpressionAttributeNames": {"#status": "status", "#source": "source"},
            "ExpressionAttributeValues": dynamo.serialize_values(values),
        }
    }


def list_members(list_id: str, *, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a list's members across its shards; the cursor names shard and position."""
    import base64
    import json

    shard, start = _read_cursor(list_id, cursor) if cursor else (0, None)
    members: list[dict[str, Any]] = []
    while shard < LIST_SHARDS and len(members) < limit:
        kwargs: dict[str, Any] = {
            "TableName": _table(),
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": dynamo.serialize_values({":pk": f"LIST#{list_id}#{shard:02d}"}),
            "Limit": limit - len(members),
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = dynamo.client().query(**kwargs)
        members += [dynamo.deserialize(item) for item in response.get("Items", [])]
        start = response.get("LastEvaluatedKey")
        if not start:
            shard += 1
    if shard >= LIST_SHARDS:
        return members, None
    token = base64.urlsafe_b64encode(json.dumps({"shard": shard, "key": start}).encode()).decode()
    return members, token


def _read_cursor(list_id: str, cursor: str) -> tuple[int, dict[str, Any] | None]:
    """The shard and start key a cursor names. The client sends it back, so it is checked to be a
    key of this list's shard before it reaches DynamoDB: anything else is a ValueError (a 422)."""
    import base64
    import binascii
    import json

    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, RecursionError) as error:
        raise ValueError("malformed cursor") from error
    shard = state.get("shard") if isinstance(state, dict) else None
    if not isinstance(shard, int) or isinstance(shard, bool) or not 0 <= shard < LIST_SHARDS:
        raise ValueError("malformed cursor")
    key = state.get("key")
    if key is None:
        return shard, None
    expected_pk = {"S": f"LIST#{list_id}#{shard:02d}"}
    sk = key.get("sk") if isinstance(key, dict) else None
    if (
        not isinstance(key, dict)
        or set(key) != {"pk", "sk"}
        or key["pk"] != expected_pk
        or not isinstance(sk, dict)
        or set(sk) != {"S"}
        or not isinstance(sk["S"], str)
        or not sk["S"].startswith("CONTACT#")
        or len(sk["S"]) > 128
    ):
        raise ValueError("malformed cursor")
    return shard, key


# ---------------------------------------------------------------- connectors, read by store/crm_sync


def connector_pk(connector_id: str) -> str:
    """A connector's own items: ``HEALTH`` (last success, last error) and ``WATERMARK`` (inbound)."""
    return f"CONNECTOR#{connector_id}"
