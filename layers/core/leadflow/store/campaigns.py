"""The Campaigns table: definitions (versioned) and campaign membership.

Layout (pk / sk):
- ``DEFS`` / ``ACTIVE``                     the active definitions bundle (compressed JSON) and its version
- ``DEFS`` / ``V#<version>``                every bundle ever applied, for audit and running enrollments
- ``MEMBERS#<campaign>#<shard>`` / ``CONTACT#<id>``
                                            one membership per (campaign, contact); GSI1 ``CONTACT#<id>`` /
                                            ``CAMPAIGN#<campaign>`` lists a contact's campaigns. The member
                                            index of one campaign spreads over MEMBER_SHARDS partitions so
                                            a viral form never writes one key a thousand times a second.
- ``MEMBERHIST#<campaign>#<shard>`` / ``<at>#<contact>#<change id>``
                                            one row per CRM membership change (the campaign's activity
                                            history, kept when a membership is deleted); GSI1
                                            ``CONTACT#<id>`` / ``MEMBERHIST#<campaign>#<at>`` for the contact
- ``LIST#<list>#<shard>`` / ``CONTACT#<id>``   static list and segment membership
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow import clock
from leadflow.domain.crm_membership import MembershipChange, MemberSnapshot
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
    updated_at: str | None = None

    def snapshot(self) -> MemberSnapshot:
        return MemberSnapshot(
            campaign_id=self.campaign_id,
            contact_id=self.contact_id,
            status=self.status,
            source=self.source,
            joined_at=self.joined_at,
            responded=self.responded,
            responded_at=self.responded_at,
            updated_at=self.updated_at,
        )


def _membership_of(item: dict[str, Any]) -> Membership:
    return Membership(
        campaign_id=item["campaign_id"],
        contact_id=item["contact_id"],
        status=item["status"],
        source=item["source"],
        joined_at=item["joined_at"],
        responded=bool(item.get("responded")),
        responded_at=item.get("responded_at"),
        form_id=item.get("form_id"),
        updated_at=item.get("updated_at"),
    )


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
    return [_membership_of(dynamo.deserialize(raw)) for raw in response.get("Items", [])]


def get_membership(campaign_id: str, contact_id: str, *, consistent: bool = True) -> Membership | None:
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": members_pk(campaign_id, contact_id), "sk": f"CONTACT#{contact_id}"}),
        ConsistentRead=consistent,
    )
    item = response.get("Item")
    return _membership_of(dynamo.deserialize(item)) if item else None


def history_pk(campaign_id: str, contact_id: str) -> str:
    return f"MEMBERHIST#{campaign_id}#{shard_of(contact_id, MEMBER_SHARDS):02d}"


def _history_put(
    campaign_id: str,
    contact_id: str,
    *,
    change_id: str,
    previous: str | None,
    status: str | None,
    source: str,
    at: str,
) -> TransactItem:
    item = {
        "pk": history_pk(campaign_id, contact_id),
        "sk": f"{at}#{contact_id}#{change_id}",
        "gsi1pk": f"CONTACT#{contact_id}",
        "gsi1sk": f"MEMBERHIST#{campaign_id}#{at}",
        "campaign_id": campaign_id,
        "contact_id": contact_id,
        "change_id": change_id,
        "from": previous,
        "to": status,
        "source": source,
        "at": at,
    }
    return {"Put": {"TableName": _table(), "Item": dynamo.serialize(item)}}


def membership_change_items(change: MembershipChange, *, change_id: str) -> list[TransactItem]:
    """The membership row as the change leaves it, and its history row.

    Unconditional on purpose: every writer puts these in a transaction with the contact's profile
    guarded by its version (the profile keeps ``crm``, the statuses the conditions read), so the
    writers of one contact are serialised there and ``decide`` saw the current status. When and by
    whom the member was added, and the first response, are kept once set (``if_not_exists``): the
    processor decides from the profile and does not know them."""
    key = {"pk": members_pk(change.campaign_id, change.contact_id), "sk": f"CONTACT#{change.contact_id}"}
    values: dict[str, Any] = {
        ":gsi1pk": f"CONTACT#{change.contact_id}",
        ":gsi1sk": f"CAMPAIGN#{change.campaign_id}",
        ":campaign": change.campaign_id,
        ":contact": change.contact_id,
        ":status": change.status,
        ":responded": change.responded,
        ":at": change.at,
        ":by": change.source,
        ":joined": change.joined_at or change.at,
        ":added_by": change.added_by or change.source,
    }
    sets = [
        "gsi1pk = :gsi1pk",
        "gsi1sk = :gsi1sk",
        "campaign_id = :campaign",
        "contact_id = :contact",
        "#status = :status",
        "responded = :responded",
        "updated_at = :at",
        "updated_by = :by",
        "joined_at = if_not_exists(joined_at, :joined)",
        "#source = if_not_exists(#source, :added_by)",
    ]
    if change.responded_at:
        values[":responded_at"] = change.responded_at
        sets.append("responded_at = if_not_exists(responded_at, :responded_at)")
    return [
        {
            "Update": {
                "TableName": _table(),
                "Key": dynamo.serialize(key),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ExpressionAttributeNames": {"#status": "status", "#source": "source"},
                "ExpressionAttributeValues": dynamo.serialize_values(values),
            }
        },
        _history_put(
            change.campaign_id,
            change.contact_id,
            change_id=change_id,
            previous=change.previous_status,
            status=change.status,
            source=change.source,
            at=change.at,
        ),
    ]


def membership_delete_items(
    member: MemberSnapshot, *, change_id: str, source: str, at: str
) -> list[TransactItem]:
    """Removes a membership (if it is still there), keeping its history with a closing row."""
    key = {"pk": members_pk(member.campaign_id, member.contact_id), "sk": f"CONTACT#{member.contact_id}"}
    return [
        {
            "Delete": {
                "TableName": _table(),
                "Key": dynamo.serialize(key),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        _history_put(
            member.campaign_id,
            member.contact_id,
            change_id=change_id,
            previous=member.status,
            status=None,
            source=source,
            at=at,
        ),
    ]


def membership_history_of(contact_id: str, campaign_id: str) -> list[dict[str, Any]]:
    """A contact's changes in one campaign, oldest first."""
    response = dynamo.client().query(
        TableName=_table(),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
        ExpressionAttributeValues=dynamo.serialize_values(
            {":pk": f"CONTACT#{contact_id}", ":prefix": f"MEMBERHIST#{campaign_id}#"}
        ),
    )
    return [dynamo.deserialize(raw) for raw in response.get("Items", [])]


def campaign_members(
    campaign_id: str, *, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[Membership], str | None]:
    """One page of a campaign's members across its shards, optionally of one status."""
    rows, token = _sharded_page(
        "MEMBERS", campaign_id, MEMBER_SHARDS, cursor=cursor, limit=limit, status=status
    )
    return [_membership_of(row) for row in rows], token


def campaign_history(
    campaign_id: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a campaign's membership changes, shard by shard (each shard in time order)."""
    return _sharded_page(
        "MEMBERHIST", campaign_id, MEMBER_SHARDS, cursor=cursor, limit=limit, sk_prefix="", max_sk=512
    )


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


def list_members(list_id: str, *, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a list's members across its shards; the cursor names shard and position."""
    return _sharded_page("LIST", list_id, LIST_SHARDS, cursor=cursor, limit=limit)


def _sharded_page(
    prefix: str,
    owner_id: str,
    shards: int,
    *,
    cursor: str | None,
    limit: int,
    status: str | None = None,
    sk_prefix: str = "CONTACT#",
    max_sk: int = 128,
) -> tuple[list[dict[str, Any]], str | None]:
    """Walks ``<prefix>#<owner>#00`` .. ``#<shards-1>`` in order; the cursor (shard, start key) is
    handed to the client, so it is checked before it reaches DynamoDB (``ValueError``: a 422)."""
    import base64
    import json

    shard, start = _read_cursor(prefix, owner_id, shards, cursor, sk_prefix, max_sk) if cursor else (0, None)
    rows: list[dict[str, Any]] = []
    while shard < shards and len(rows) < limit:
        kwargs: dict[str, Any] = {
            "TableName": _table(),
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": dynamo.serialize_values({":pk": f"{prefix}#{owner_id}#{shard:02d}"}),
            "Limit": limit - len(rows),
        }
        if status is not None:
            kwargs["FilterExpression"] = "#status = :status"
            kwargs["ExpressionAttributeNames"] = {"#status": "status"}
            kwargs["ExpressionAttributeValues"].update(dynamo.serialize_values({":status": status}))
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = dynamo.client().query(**kwargs)
        rows += [dynamo.deserialize(item) for item in response.get("Items", [])]
        start = response.get("LastEvaluatedKey")
        if not start:
            shard += 1
    if shard >= shards:
        return rows, None
    token = base64.urlsafe_b64encode(json.dumps({"shard": shard, "key": start}).encode()).decode()
    return rows, token


def _read_cursor(
    prefix: str, owner_id: str, shards: int, cursor: str, sk_prefix: str, max_sk: int
) -> tuple[int, dict[str, Any] | None]:
    """The shard and start key a cursor names. The client sends it back, so it is checked to be a
    key of this owner's shard before it reaches DynamoDB: anything else is a ValueError (a 422)."""
    import base64
    import binascii
    import json

    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, RecursionError) as error:
        raise ValueError("malformed cursor") from error
    shard = state.get("shard") if isinstance(state, dict) else None
    if not isinstance(shard, int) or isinstance(shard, bool) or not 0 <= shard < shards:
        raise ValueError("malformed cursor")
    key = state.get("key")
    if key is None:
        return shard, None
    expected_pk = {"S": f"{prefix}#{owner_id}#{shard:02d}"}
    sk = key.get("sk") if isinstance(key, dict) else None
    if (
        not isinstance(key, dict)
        or set(key) != {"pk", "sk"}
        or key["pk"] != expected_pk
        or not isinstance(sk, dict)
        or set(sk) != {"S"}
        or not isinstance(sk["S"], str)
        or not sk["S"].startswith(sk_prefix)
        or len(sk["S"]) > max_sk
    ):
        raise ValueError("malformed cursor")
    return shard, key


# ---------------------------------------------------------------- privacy: a contact's rows here


def contact_rows(contact_id: str) -> list[dict[str, Any]]:
    """Every row of this table about the contact (campaign and list memberships, membership
    history), through GSI1 ``CONTACT#<id>``."""
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": dynamo.serialize_values({":pk": f"CONTACT#{contact_id}"}),
    }
    while True:
        response = dynamo.client().query(**kwargs)
        rows += [dynamo.deserialize(item) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return rows
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def delete_rows(keys: list[tuple[str, str]]) -> None:
    """Deletes rows of this table by key, a transaction of up to 100 at a time."""
    for start in range(0, len(keys), 100):
        dynamo.transact_write(
            [
                {"Delete": {"TableName": _table(), "Key": dynamo.serialize({"pk": pk, "sk": sk})}}
                for pk, sk in keys[start : start + 100]
            ]
        )
