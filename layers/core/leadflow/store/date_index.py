"""The month-day index of contacts' date fields (Contacts table), read daily for date-field triggers.

Layout: ``CONTACT#<id>`` / ``DATE#<field>`` holds the field's date; GSI1 lists it under
``DATE#<field>#<MM-DD>#<shard 00-15>`` / ``<contact id>``. One line per contact and field, put or
deleted in the same transaction that changes the field, so the index never disagrees with the
profile for long; the daily job reads the profile again anyway. Sixteen shards per month-day, so a
popular date (1 January) never concentrates on one partition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from leadflow.ids import shard_of
from leadflow.store import dynamo
from leadflow.store.contacts import _table, contact_pk
from leadflow.store.dynamo import TransactItem

DATE_SHARDS = 16
DATE_PREFIX = "DATE#"


def date_sk(field: str) -> str:
    return f"{DATE_PREFIX}{field}"


def date_partition(field: str, month_day: str, shard: int) -> str:
    return f"{DATE_PREFIX}{field}#{month_day}#{shard:02d}"


def index_items(contact_id: str, values: Mapping[str, date | None]) -> list[TransactItem]:
    """A put per field holding a date, a delete per field that holds none (or no longer does)."""
    items: list[TransactItem] = []
    for field, value in sorted(values.items()):
        key = {"pk": contact_pk(contact_id), "sk": date_sk(field)}
        if value is None:
            items.append({"Delete": {"TableName": _table(), "Key": dynamo.serialize(key)}})
            continue
        item = {
            **key,
            "contact_id": contact_id,
            "field": field,
            "date": value.isoformat(),
            "gsi1pk": date_partition(field, value.strftime("%m-%d"), shard_of(contact_id, DATE_SHARDS)),
            "gsi1sk": contact_id,
        }
        items.append({"Put": {"TableName": _table(), "Item": dynamo.serialize(item)}})
    return items


def contacts_on(field: str, month_day: str, shard: int, *, page: int = 500) -> Iterator[str]:
    """The contacts whose ``field`` falls on ``month_day``, in one shard: a paged Query."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":pk": date_partition(field, month_day, shard)}
        ),
        "ProjectionExpression": "contact_id",
        "Limit": page,
    }
    while True:
        response = dynamo.client().query(**kwargs)
        for raw in response.get("Items", []):
            yield str(dynamo.deserialize(raw)["contact_id"])
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
