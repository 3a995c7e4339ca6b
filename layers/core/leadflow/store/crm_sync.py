"""CRM sync state: per contact and connector (Contacts table), per connector (Campaigns table).

Layout (pk / sk):
- Contacts ``CONTACT#<id>`` / ``SYNC#<connector>``   what the connector's CRM holds for this contact:
  state synced|pending|failed, the CRM's person id, per campaign the member id, status and the
  change that put it there, the last error and its time, the lease of the worker sending now and
  a ``revision``. While pending or failed, GSI1 lists it under ``SYNC#<connector>#<state>#<shard>``
  / ``<time>#<contact>``: the connector view counts them there, and new credentials re-send the
  ones that waited for them, without a Scan.
- Campaigns ``CONNECTOR#<id>`` / ``HEALTH``           the connector's last success and last error.
- Campaigns ``CONNECTOR#<id>`` / ``WATERMARK``        the inbound poll's position: the CRM's own
  timestamp of the last change read, which only moves forward.

Every write of a contact's state is conditional on the ``revision`` it was read at, and a worker
takes the lease before it calls the CRM: one worker at a time talks to the CRM about one contact,
so a slow older send can never land after a newer one (per-contact order on a standard queue).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from leadflow import clock
from leadflow.ids import shard_of
from leadflow.settings import get_settings
from leadflow.store import dynamo
from leadflow.store.campaigns import connector_pk
from leadflow.store.contacts import _table as _contacts_table
from leadflow.store.contacts import contact_pk

SYNC_PREFIX = "SYNC#"
STATE_SHARDS = 16
HEALTH = "HEALTH"
WATERMARK = "WATERMARK"

SyncStateName = Literal["synced", "pending", "failed"]
INDEXED_STATES: tuple[SyncStateName, ...] = ("pending", "failed")


def _campaigns_table() -> str:
    return get_settings().campaigns_table


def sync_sk(connector_id: str) -> str:
    return f"{SYNC_PREFIX}{connector_id}"


def state_partition(connector_id: str, state: str, shard: int) -> str:
    return f"SYNC#{connector_id}#{state}#{shard:02d}"


@dataclass(frozen=True, slots=True)
class SyncedMember:
    """One campaign membership as the CRM holds it after Leadflow's last send."""

    status: str
    member_id: str | None
    change_id: str
    at: str

    def to_item(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "member_id": self.member_id,
            "change_id": self.change_id,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class SyncError:
    code: str
    message: str
    at: str
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class SyncState:
    """A contact's sync with one connector; ``revision`` 0 means nothing is stored yet."""

    contact_id: str
    connector_id: str
    state: SyncStateName = "pending"
    reason: str | None = None  # why pending or failed: not_configured, retrying, rejected, ...
    external_person_id: str | None = None
    members: dict[str, SyncedMember] = field(default_factory=dict)
    waiting: tuple[str, ...] = ()  # campaign ids whose current status is not in the CRM yet
    last_error: SyncError | None = None
    last_change_id: str | None = None
    updated_at: str | None = None
    revision: int = 0

    def synced_status(self, campaign_id: str) -> str | None:
        member = self.members.get(campaign_id)
        return member.status if member is not None else None


def _member(raw: dict[str, Any]) -> SyncedMember:
    return SyncedMember(
        status=str(raw["status"]),
        member_id=raw.get("member_id"),
        change_id=str(raw["change_id"]),
        at=str(raw["at"]),
    )


def _from_item(item: dict[str, Any]) -> SyncState:
    error = item.get("last_error")
    return SyncState(
        contact_id=item["contact_id"],
        connector_id=item["connector_id"],
        state=item["state"],
        reason=item.get("reason"),
        external_person_id=item.get("external_person_id"),
        members={campaign: _member(raw) for campaign, raw in (item.get("members") or {}).items()},
        waiting=tuple(item.get("waiting") or ()),
        last_error=SyncError(
            code=error["code"],
            message=error["message"],
            at=error["at"],
            retryable=bool(error.get("retryable")),
        )
        if error
        else None,
        last_change_id=item.get("last_change_id"),
        updated_at=item.get("updated_at"),
        revision=int(item.get("revision", 0)),
    )


def _key(contact_id: str, connector_id: str) -> dict[str, Any]:
    return dynamo.serialize({"pk": contact_pk(contact_id), "sk": sync_sk(connector_id)})


def get_state(contact_id: str, connector_id: str) -> SyncState:
    """The stored state (consistent), or a blank one at revision 0."""
    response = dynamo.client().get_item(
        TableName=_contacts_table(), Key=_key(contact_id, connector_id), ConsistentRead=True
    )
    item = response.get("Item")
    if item is None:
        return SyncState(contact_id=contact_id, connector_id=connector_id)
    return _from_item(dynamo.deserialize(item))


def states_of(contact_id: str) -> list[SyncState]:
    """Every connector's state for one contact (the contact view's ``crm_sync``): one query."""
    response = dynamo.client().query(
        TableName=_contacts_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sync)",
        ExpressionAttributeValues=dynamo.serialize_values(
            {":pk": contact_pk(contact_id), ":sync": SYNC_PREFIX}
        ),
    )
    return [_from_item(dynamo.deserialize(raw)) for raw in response.get("Items", [])]


class StaleState(Exception):  # noqa: N818 (what happened: someone else wrote first)
    """The state changed since it was read, or another worker holds the lease: try again later."""


def take_lease(state: SyncState, *, now: datetime, seconds: float) -> SyncState:
    """Claims the contact's sync with this connector for ``seconds`` (creating the item if new).

    Raises StaleState when another worker holds an unexpired lease or wrote since ``state`` was read.
    """
    until = clock.iso(now + timedelta(seconds=seconds))
    values: dict[str, Any] = {":until": until, ":now": clock.iso(now), ":next": state.revision + 1}
    if state.revision == 0:
        condition = "attribute_not_exists(pk)"
        update = (
            "SET lease_until = :until, revision = :next, contact_id = :contact, connector_id = :connector, "
            "#state = :pending, updated_at = :now"
        )
        values |= {":contact": state.contact_id, ":connector": state.connector_id, ":pending": "pending"}
    else:
        condition = "revision = :read AND (attribute_not_exists(lease_until) OR lease_until < :now)"
        update = "SET lease_until = :until, revision = :next"
        values[":read"] = state.revision
    try:
        dynamo.client().update_item(
            TableName=_contacts_table(),
            Key=_key(state.contact_id, state.connector_id),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=dynamo.serialize_values(values),
            **({"ExpressionAttributeNames": {"#state": "state"}} if state.revision == 0 else {}),
        )
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            raise StaleState(
                f"sync of {state.contact_id} with {state.connector_id} is busy or moved on"
            ) from error
        raise
    return replace(state, revision=state.revision + 1, state=state.state if state.revision else "pending")


def save_state(state: SyncState, *, now: datetime, holds_lease: bool = True) -> SyncState:
    """Writes ``state`` (read or leased at ``state.revision``) and releases the lease.

    Raises StaleState when someone wrote in between, or (``holds_lease=False``: a writer that did not
    take it) while a worker holds the lease. Pending and failed states are indexed in GSI1.
    """
    stamp = clock.iso(now)
    saved = replace(state, revision=state.revision + 1, updated_at=stamp)
    item: dict[str, Any] = {
        "pk": contact_pk(state.contact_id),
        "sk": sync_sk(state.connector_id),
        "contact_id": state.contact_id,
        "connector_id": state.connector_id,
        "state": state.state,
        "reason": state.reason,
        "external_person_id": state.external_person_id,
        "members": {campaign: member.to_item() for campaign, member in state.members.items()},
        "waiting": list(state.waiting),
        "last_error": (
            {
                "code": state.last_error.code,
                "message": state.last_error.message,
                "at": state.last_error.at,
                "retryable": state.last_error.retryable,
            }
            if state.last_error
            else None
        ),
        "last_change_id": state.last_change_id,
        "updated_at": stamp,
        "revision": saved.revision,
    }
    if state.state in INDEXED_STATES:
        shard = shard_of(state.contact_id, STATE_SHARDS)
        item["gsi1pk"] = state_partition(state.connector_id, state.state, shard)
        item["gsi1sk"] = f"{stamp}#{state.contact_id}"
    request: dict[str, Any] = {"TableName": _contacts_table(), "Item": dynamo.serialize(item)}
    if state.revision == 0:
        request["ConditionExpression"] = "attribute_not_exists(pk)"
    elif holds_lease:
        request["ConditionExpression"] = "revision = :read"
        request["ExpressionAttributeValues"] = dynamo.serialize_values({":read": state.revision})
    else:
        request["ConditionExpression"] = (
            "revision = :read AND (attribute_not_exists(lease_until) OR lease_until < :now)"
        )
        request["ExpressionAttributeValues"] = dynamo.serialize_values(
            {":read": state.revision, ":now": stamp}
        )
    try:
        dynamo.client().put_item(**request)
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            raise StaleState(f"sync of {state.contact_id} with {state.connector_id} moved on") from error
        raise
    return saved


def count(connector_id: str, state: SyncStateName) -> int:
    """How many contacts are in ``state`` with this connector: a COUNT query per shard (admin only)."""
    total = 0
    for shard in range(STATE_SHARDS):
        kwargs: dict[str, Any] = {
            "TableName": _contacts_table(),
            "IndexName": "GSI1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": dynamo.serialize_values(
                {":pk": state_partition(connector_id, state, shard)}
            ),
            "Select": "COUNT",
        }
        while True:
            response = dynamo.client().query(**kwargs)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return total


def waiting_states(connector_id: str, state: SyncStateName = "pending") -> Iterator[SyncState]:
    """Every contact in ``state`` with this connector, shard by shard (GSI1, eventually consistent)."""
    for shard in range(STATE_SHARDS):
        kwargs: dict[str, Any] = {
            "TableName": _contacts_table(),
            "IndexName": "GSI1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": dynamo.serialize_values(
                {":pk": state_partition(connector_id, state, shard)}
            ),
        }
        while True:
            response = dynamo.client().query(**kwargs)
            for raw in response.get("Items", []):
                yield _from_item(dynamo.deserialize(raw))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# ---------------------------------------------------------------- per connector (Campaigns table)


@dataclass(frozen=True, slots=True)
class Health:
    last_success_at: str | None = None
    last_error: SyncError | None = None


def _connector_key(connector_id: str, sk: str) -> dict[str, Any]:
    return dynamo.serialize({"pk": connector_pk(connector_id), "sk": sk})


def record_success(connector_id: str, at: datetime) -> None:
    """The connector's last success moves forward only (workers finish out of order)."""
    stamp = clock.iso(at)
    try:
        dynamo.client().update_item(
            TableName=_campaigns_table(),
            Key=_connector_key(connector_id, HEALTH),
            UpdateExpression="SET last_success_at = :at",
            ConditionExpression="attribute_not_exists(last_success_at) OR last_success_at < :at",
            ExpressionAttributeValues=dynamo.serialize_values({":at": stamp}),
        )
    except ClientError as error:
        if not dynamo.is_condition_failure(error):
            raise


def record_error(connector_id: str, error: SyncError) -> None:
    dynamo.client().update_item(
        TableName=_campaigns_table(),
        Key=_connector_key(connector_id, HEALTH),
        UpdateExpression="SET last_error = :error",
        ExpressionAttributeValues=dynamo.serialize_values(
            {
                ":error": {
                    "code": error.code,
                    "message": error.message,
                    "at": error.at,
                    "retryable": error.retryable,
                }
            }
        ),
    )


def health(connector_id: str) -> Health:
    response = dynamo.client().get_item(
        TableName=_campaigns_table(), Key=_connector_key(connector_id, HEALTH)
    )
    item = dynamo.deserialize(response["Item"]) if "Item" in response else {}
    error = item.get("last_error")
    return Health(
        last_success_at=item.get("last_success_at"),
        last_error=SyncError(
            code=error["code"],
            message=error["message"],
            at=error["at"],
            retryable=bool(error.get("retryable")),
        )
        if error
        else None,
    )


def get_watermark(connector_id: str) -> str | None:
    response = dynamo.client().get_item(
        TableName=_campaigns_table(), Key=_connector_key(connector_id, WATERMARK), ConsistentRead=True
    )
    return dynamo.deserialize(response["Item"]).get("watermark") if "Item" in response else None


def advance_watermark(connector_id: str, watermark: str, *, now: datetime) -> bool:
    """Moves the watermark forward to ``watermark`` (the CRM's timestamp); False if it was already past."""
    try:
        dynamo.client().update_item(
            TableName=_campaigns_table(),
            Key=_connector_key(connector_id, WATERMARK),
            UpdateExpression="SET watermark = :mark, updated_at = :now",
            ConditionExpression="attribute_not_exists(watermark) OR watermark < :mark",
            ExpressionAttributeValues=dynamo.serialize_values({":mark": watermark, ":now": clock.iso(now)}),
        )
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True
