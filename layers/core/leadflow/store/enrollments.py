"""The Contacts table's enrollment items; the table's other items stay in store/contacts.py.

Layout (pk / sk):
- ``CONTACT#<id>`` / ``FLOW#<flow id>``    the contact's latest enrollment in that flow (one per
  contact and flow: a re-entry replaces a finished one).
- ``CONTACT#<id>`` / ``DUE#<flow id>``     its due-time line, a small item written in the same
  transaction, while the enrollment is ``active`` or ``waiting`` with a due time (a ``paused`` one
  at its hourly recheck): GSI1 lists it under ``DUE#<shard>`` / ``<look at>#<contact>#<flow>``, so
  the minute run reads only what is due, and small lines rather than whole enrollments (sharded
  like the decay index, ``DECAY#<shard>``). ``due_at`` is the enrollment's due time; the sort key's
  time starts equal to it and moves on when the minute run has enqueued the line
  (``mark_enqueued``), so a due enrollment is sent once, and again only once overdue.
- ``CONTACT#<id>`` / ``EFFECT#<effect id>`` the claim of one effect: written ``claimed`` in the
  same transaction as the enrollment update that produced it, then ``done`` once carried out.

Every enrollment write is conditional on the ``revision`` it was computed from, so two workers
racing on one enrollment cannot both advance it; the effects the loser computed are never claimed.
The effects of the last advance stay on the item (``pending``) until they are all done, so a crash
between the commit and the effects is finished by the next worker instead of being lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from leadflow import clock
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.effects import Effect
from leadflow.domain.nurture.enrollment import Enrollment, EnrollmentState
from leadflow.ids import shard_of
from leadflow.store import dynamo
from leadflow.store.contacts import _table, activity_sk, contact_pk
from leadflow.store.dynamo import TransactItem

DUE_SHARDS = 16
PAUSED_RECHECK = timedelta(hours=1)
"""A paused enrollment (its flow disabled) is looked at again this often, to resume it once the
flow is enabled: paused ones cost one read an hour each, never a scan."""
CLAIM_TTL = timedelta(days=400)
"""Effect claims are kept this long (DynamoDB's TTL removes them): only a pending advance reads them."""
FLOW_PREFIX = "FLOW#"
DUE_PREFIX = "DUE#"
EFFECT_PREFIX = "EFFECT#"
CLAIMED = "claimed"
SENDING = "sending"
"""An email claim just before its SES call: a claim found ``sending`` may have been sent already."""
DONE = "done"
_INDEXED = {EnrollmentState.ACTIVE, EnrollmentState.WAITING, EnrollmentState.PAUSED}
_effects = TypeAdapter(list[Effect])


def flow_sk(flow_id: str) -> str:
    return f"{FLOW_PREFIX}{flow_id}"


def due_sk(flow_id: str) -> str:
    return f"{DUE_PREFIX}{flow_id}"


def effect_sk(effect_id: str) -> str:
    return f"{EFFECT_PREFIX}{effect_id}"


def due_partition(shard: int) -> str:
    return f"DUE#{shard:02d}"


def _due_sort_key(contact_id: str, flow_id: str, when: datetime) -> str:
    return f"{clock.iso(when)}#{contact_id}#{flow_id}"


def due_key(enrollment: Enrollment, recheck_at: datetime | None = None) -> dict[str, str] | None:
    """GSI1 keys while the enrollment is due at some time (a paused one at its next recheck);
    None when it is over, or only a wake can move it."""
    if enrollment.state not in _INDEXED:
        return None
    when = enrollment.due_at
    if enrollment.state is EnrollmentState.PAUSED:
        when = recheck_at or clock.now() + PAUSED_RECHECK
    if when is None:
        return None
    return {
        "gsi1pk": due_partition(shard_of(f"{enrollment.contact_id}#{enrollment.flow_id}", DUE_SHARDS)),
        "gsi1sk": _due_sort_key(enrollment.contact_id, enrollment.flow_id, when),
    }


@dataclass(frozen=True, slots=True)
class Stored:
    """An enrollment as stored, with the effects of its last advance that are not yet all done."""

    enrollment: Enrollment
    pending: list[Effect]


@dataclass(frozen=True, slots=True)
class Due:
    """One line of the due-time index: ``due_at`` is when the enrollment was due, ``sort_key``
    where the line sits now (moved on once enqueued), ``sk`` the item that holds it."""

    contact_id: str
    flow_id: str
    due_at: datetime
    revision: int
    sort_key: str
    sk: str
    enqueued_at: datetime | None = None


class StaleError(Exception):
    """The enrollment moved on since it was read (another worker won): nothing was written."""


# ---------------------------------------------------------------- reads


def _from_item(item: dict[str, Any]) -> Stored:
    return Stored(
        enrollment=Enrollment.model_validate(item["enrollment"]),
        pending=_effects.validate_python(item.get("pending", [])),
    )


def get(contact_id: str, flow_id: str, *, consistent: bool = True) -> Stored | None:
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": flow_sk(flow_id)}),
        ConsistentRead=consistent,
    )
    item = response.get("Item")
    return _from_item(dynamo.deserialize(item)) if item else None


def of_contact(contact_id: str) -> list[Stored]:
    """The contact's enrollments, one per flow: a Query of its partition, never a scan."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :flow)",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":pk": contact_pk(contact_id), ":flow": FLOW_PREFIX}
        ),
        "ConsistentRead": True,
    }
    found: list[Stored] = []
    while True:
        response = dynamo.client().query(**kwargs)
        found += [_from_item(dynamo.deserialize(item)) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return found
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def due(shard: int, before: datetime, *, page: int = 200) -> Iterator[Due]:
    """The enrollments of one shard due at or before ``before``, oldest first, paged: the query reads
    only index lines that are due, so its cost follows the due work."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :before",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":pk": due_partition(shard), ":before": clock.iso(before) + "~"}  # "~" sorts after "#"
        ),
        "ProjectionExpression": "sk, contact_id, flow_id, gsi1sk, revision, due_at, enqueued_at",
        "Limit": page,
    }
    while True:
        response = dynamo.client().query(**kwargs)
        for raw in response.get("Items", []):
            item = dynamo.deserialize(raw)
            looked_at = item["gsi1sk"].split("#", 1)[0]
            yield Due(
                contact_id=item["contact_id"],
                flow_id=item["flow_id"],
                due_at=clock.parse_iso(item.get("due_at") or looked_at),
                revision=int(item["revision"]),
                sort_key=item["gsi1sk"],
                sk=item["sk"],
                enqueued_at=clock.parse_iso(item["enqueued_at"]) if item.get("enqueued_at") else None,
            )
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def effect_done(contact_id: str, effect_id: str) -> bool:
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": effect_sk(effect_id)}),
        ConsistentRead=True,
        ProjectionExpression="#status",
        ExpressionAttributeNames={"#status": "status"},
    )
    item = response.get("Item")
    return bool(item) and dynamo.deserialize(item).get("status") == DONE


# ---------------------------------------------------------------- writes


def save_items(
    enrollment: Enrollment,
    expected_revision: int | None,
    effects: Sequence[Effect],
    *,
    expected_enrollment_id: str | None = None,
) -> list[TransactItem]:
    """The enrollment (conditional on the revision it was computed from, or on there being none
    when ``expected_revision`` is None) and a ``claimed`` row for each effect.

    Item 0 is the enrollment: a failure there means another worker moved it on."""
    item: dict[str, Any] = {
        "pk": contact_pk(enrollment.contact_id),
        "sk": flow_sk(enrollment.flow_id),
        "contact_id": enrollment.contact_id,
        "flow_id": enrollment.flow_id,
        "enrollment_id": enrollment.enrollment_id,
        "state": enrollment.state.value,
        "revision": enrollment.revision,
        "enrollment": enrollment.model_dump(mode="json"),
        "pending": [effect.model_dump(mode="json") for effect in effects],
    }
    put: dict[str, Any] = {"TableName": _table(), "Item": dynamo.serialize(item)}
    if expected_revision is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "revision = :revision AND enrollment_id = :enrollment"
        put["ExpressionAttributeValues"] = dynamo.serialize_values(
            {
                ":revision": expected_revision,
                ":enrollment": expected_enrollment_id or enrollment.enrollment_id,
            }
        )
    items: list[TransactItem] = [{"Put": put}, _due_line_item(enrollment)]
    now = clock.now()
    stamp = clock.iso(now)
    for effect in effects:
        claim = {
            "pk": contact_pk(enrollment.contact_id),
            "sk": effect_sk(effect.effect_id),
            "status": CLAIMED,
            "kind": effect.kind,
            "enrollment_id": enrollment.enrollment_id,
            "step_id": effect.step_id,
            "claimed_at": stamp,
            "expires_at": int((now + CLAIM_TTL).timestamp()),
        }
        items.append(
            {
                "Put": {
                    "TableName": _table(),
                    "Item": dynamo.serialize(claim),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
    return items


def _due_line_item(enrollment: Enrollment) -> TransactItem:
    """The enrollment's due-time line (put), or its removal when nothing but a wake can move it."""
    line_key = {"pk": contact_pk(enrollment.contact_id), "sk": due_sk(enrollment.flow_id)}
    key = due_key(enrollment)
    if key is None:
        return {"Delete": {"TableName": _table(), "Key": dynamo.serialize(line_key)}}
    line = {
        **line_key,
        "contact_id": enrollment.contact_id,
        "flow_id": enrollment.flow_id,
        "revision": enrollment.revision,
        "due_at": key["gsi1sk"].split("#", 1)[0],
        **key,
    }
    return {"Put": {"TableName": _table(), "Item": dynamo.serialize(line)}}


def save(
    enrollment: Enrollment,
    expected_revision: int | None,
    effects: Sequence[Effect],
    *,
    expected_enrollment_id: str | None = None,
) -> None:
    """Writes the enrollment and claims its effects, or raises :class:`StaleError`."""
    try:
        dynamo.transact_write(
            save_items(enrollment, expected_revision, effects, expected_enrollment_id=expected_enrollment_id)
        )
    except dynamo.TransactionCancelled as cancelled:
        raise StaleError(enrollment.enrollment_id) from cancelled


def mark_done_item(contact_id: str, effect_id: str, now: datetime) -> TransactItem:
    """Marks a claimed effect done, on condition it was not done before: put it in the same
    transaction as the effect's own write, and the write happens once."""
    return {
        "Update": {
            "TableName": _table(),
            "Key": dynamo.serialize({"pk": contact_pk(contact_id), "sk": effect_sk(effect_id)}),
            "UpdateExpression": "SET #status = :done, done_at = :now",
            "ConditionExpression": "attribute_exists(pk) AND #status <> :done",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": dynamo.serialize_values({":done": DONE, ":now": clock.iso(now)}),
        }
    }


def _update_if(**request: Any) -> bool:
    """One conditional UpdateItem; False when its condition did not hold (someone moved on)."""
    try:
        dynamo.client().update_item(TableName=_table(), **request)
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def _enrollment_key(enrollment: Enrollment) -> dict[str, Any]:
    return dynamo.serialize({"pk": contact_pk(enrollment.contact_id), "sk": flow_sk(enrollment.flow_id)})


def begin_sending(contact_id: str, effect_id: str, now: datetime) -> bool:
    """Turns an email's claim from ``claimed`` to ``sending`` right before the SES call; False when
    it is not ``claimed`` (a redelivery after a crash mid-send: the outcome is unknown)."""
    return _update_if(
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": effect_sk(effect_id)}),
        UpdateExpression="SET #status = :sending, sending_at = :now",
        ConditionExpression="#status = :claimed",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=dynamo.serialize_values(
            {":sending": SENDING, ":claimed": CLAIMED, ":now": clock.iso(now)}
        ),
    )


def release_sending(contact_id: str, effect_id: str) -> None:
    """Back from ``sending`` to ``claimed`` when SES surely did not take the message (throttled,
    unreachable before the request left): the retry may send it."""
    _update_if(
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": effect_sk(effect_id)}),
        UpdateExpression="SET #status = :claimed REMOVE sending_at",
        ConditionExpression="#status = :sending",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=dynamo.serialize_values({":sending": SENDING, ":claimed": CLAIMED}),
    )


def mark_done(contact_id: str, effect_id: str, now: datetime, **facts: Any) -> bool:
    """Marks an effect done on its own (for effects outside the table: events, email); False when
    it was done before."""
    item = mark_done_item(contact_id, effect_id, now)
    update = item["Update"]
    for index, (name, value) in enumerate(sorted(facts.items())):
        update["UpdateExpression"] += f", #f{index} = :f{index}"
        update["ExpressionAttributeNames"][f"#f{index}"] = name
        update["ExpressionAttributeValues"].update(dynamo.serialize_values({f":f{index}": value}))
    del update["TableName"]
    return _update_if(**update)


def clear_pending(enrollment: Enrollment) -> None:
    """All of the last advance's effects are done: forget them (only if nobody moved on since)."""
    _update_if(
        Key=_enrollment_key(enrollment),
        UpdateExpression="REMOVE pending",
        ConditionExpression="revision = :revision",
        ExpressionAttributeValues=dynamo.serialize_values({":revision": enrollment.revision}),
    )


def recheck_later(enrollment: Enrollment, now: datetime) -> None:
    """A paused enrollment whose flow is still disabled: move its index line to the next recheck
    (only if nobody changed it), so the minute run does not send it again every minute."""
    key = due_key(enrollment, now + PAUSED_RECHECK)
    if key is None:
        return
    _update_if(
        Key=dynamo.serialize({"pk": contact_pk(enrollment.contact_id), "sk": due_sk(enrollment.flow_id)}),
        UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk, due_at = :due",
        ConditionExpression="revision = :revision",
        ExpressionAttributeValues=dynamo.serialize_values(
            {
                ":pk": key["gsi1pk"],
                ":sk": key["gsi1sk"],
                ":due": key["gsi1sk"].split("#", 1)[0],
                ":revision": enrollment.revision,
            }
        ),
    )


def mark_enqueued(line: Due, now: datetime, look_again_at: datetime) -> bool:
    """The minute run sent this line: move it to ``look_again_at`` (the watchdog's time) with
    ``enqueued_at``, so the next runs skip it until then. Only if the line is still as read (same
    revision, same place): a worker that moved the enrollment on meanwhile wrote a new line, and
    that one stands. False when it had moved."""
    return _update_if(
        Key=dynamo.serialize({"pk": contact_pk(line.contact_id), "sk": line.sk}),
        UpdateExpression="SET gsi1sk = :later, enqueued_at = :now",
        ConditionExpression="revision = :revision AND gsi1sk = :seen",
        ExpressionAttributeValues=dynamo.serialize_values(
            {
                ":later": _due_sort_key(line.contact_id, line.flow_id, look_again_at),
                ":now": clock.iso(now),
                ":revision": line.revision,
                ":seen": line.sort_key,
            }
        ),
    )


# ---------------------------------------------------------------- claims outside flows (the confirmation email)


def claim_item(contact_id: str, effect_id: str, kind: str, now: datetime, **facts: Any) -> TransactItem:
    """A ``claimed`` row for a one-off effect (not a flow's), put once: ride it in the transaction
    that decides the effect, so a redelivery finds the claim rather than making a second one."""
    claim = {
        "pk": contact_pk(contact_id),
        "sk": effect_sk(effect_id),
        "status": CLAIMED,
        "kind": kind,
        "claimed_at": clock.iso(now),
        "expires_at": int((now + CLAIM_TTL).timestamp()),
        **facts,
    }
    return {
        "Put": {
            "TableName": _table(),
            "Item": dynamo.serialize(claim),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def claim_status(contact_id: str, effect_id: str) -> str | None:
    """The claim's status (``claimed``, ``sending``, ``done``), or None when there is no claim."""
    response = dynamo.client().get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": contact_pk(contact_id), "sk": effect_sk(effect_id)}),
        ConsistentRead=True,
        ProjectionExpression="#status",
        ExpressionAttributeNames={"#status": "status"},
    )
    item = response.get("Item")
    return str(dynamo.deserialize(item)["status"]) if item else None


def done_with_history(
    contact_id: str, effect_id: str, now: datetime, *, history: Activity, **facts: Any
) -> bool:
    """Marks a claim done with ``facts`` and, in the same transaction, puts ``history`` in the
    contact's history as an activity already applied (it scores nothing and starts no flow);
    False when the claim was done before (nothing written)."""
    done = mark_done_item(contact_id, effect_id, now)
    update = done["Update"]
    for index, (name, value) in enumerate(sorted(facts.items())):
        update["UpdateExpression"] += f", #f{index} = :f{index}"
        update["ExpressionAttributeNames"][f"#f{index}"] = name
        update["ExpressionAttributeValues"].update(dynamo.serialize_values({f":f{index}": value}))
    row = {
        "pk": contact_pk(contact_id),
        "sk": activity_sk(history),
        **history.model_dump(mode="json", exclude_defaults=True),
        "contact_id": contact_id,
        "applied_at": clock.iso(now),
    }
    try:
        dynamo.transact_write([done, {"Put": {"TableName": _table(), "Item": dynamo.serialize(row)}}])
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(0):
            return False
        raise
    return True
