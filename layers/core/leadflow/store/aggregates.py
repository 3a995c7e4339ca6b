"""The report counters in the Campaigns table: kept as events happen, read without a scan.

Layout (pk / sk):
- ``STATS#<shard 00-15>`` / ``CRM#<campaign>``   a CRM campaign's counters from the contacts of one
                                                 shard: ``members`` and ``s#<status>`` per status
- ``STATS#<shard 00-15>`` / ``MA#<campaign>``    an MA campaign's ``members`` from one shard
- ``FUNNEL#<shard 00-15>`` / ``DAY#<yyyy-mm-dd>#<scope>``
                                                 contacts entering each stage that UTC day (one number
                                                 per stage), ``scope`` ``ALL`` or ``MA#<campaign>``
- ``REPORTED#<event id>`` / ``CLAIM``            the claim that an event was counted (35-day TTL),
                                                 written in the same transaction as its counters

The shard is the contact's, so a viral form into one campaign spreads its writes over sixteen
items (and sixteen partition keys) instead of one. Reading every campaign's figures is one Query
per shard (16, whatever the number of contacts); one campaign's is 16 GetItems; a funnel window
is one Query per shard over the day range, every scope included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from leadflow import clock
from leadflow.domain.aggregates import (
    COUNTER_SHARDS,
    MEMBERS,
    OVERALL,
    STAGES,
    CounterUpdate,
    Family,
    Tally,
    status_of_counter,
)
from leadflow.domain.reports import CampaignCounts
from leadflow.settings import get_settings
from leadflow.store import dynamo

#: Longer than anything can redeliver an event: EventBridge retries for 24 hours, SQS keeps a
#: message 4 days and its dead-letter queue 14, and a redrive from there must still be recognised.
CLAIM_DAYS = 35


def _table() -> str:
    return get_settings().campaigns_table


def _stats_pk(shard: int) -> str:
    return f"STATS#{shard:02d}"


def _funnel_pk(shard: int) -> str:
    return f"FUNNEL#{shard:02d}"


def _campaign_sk(family: Family, campaign_id: str) -> str:
    return f"{'CRM' if family is Family.CRM else 'MA'}#{campaign_id}"


def _scope(scope: str) -> str:
    return scope if scope == OVERALL else f"MA#{scope}"


def _day_sk(day: date, scope: str) -> str:
    return f"DAY#{day.isoformat()}#{_scope(scope)}"


def _key(update: CounterUpdate) -> dict[str, str]:
    if update.family is Family.FUNNEL:
        assert update.day is not None
        return {"pk": _funnel_pk(update.shard), "sk": _day_sk(update.day, update.key)}
    return {"pk": _stats_pk(update.shard), "sk": _campaign_sk(update.family, update.key)}


def _update_item(update: CounterUpdate) -> dict[str, Any]:
    """``ADD`` for each counter, plus the item's identity (``SET``, the same every time)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds = []
    for index, (counter, delta) in enumerate(sorted(update.adds.items())):
        names[f"#c{index}"] = counter
        values[f":c{index}"] = delta
        adds.append(f"#c{index} :c{index}")
    if update.family is Family.FUNNEL:
        assert update.day is not None
        identity = {"day": update.day.isoformat(), "scope": update.key}
    else:
        identity = {"campaign_id": update.key, "kind": str(update.family)}
    sets = []
    for index, (name, value) in enumerate(identity.items()):
        names[f"#i{index}"] = name
        values[f":i{index}"] = value
        sets.append(f"#i{index} = :i{index}")
    return {
        "Update": {
            "TableName": _table(),
            "Key": dynamo.serialize(_key(update)),
            "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": dynamo.serialize_values(values),
        }
    }


def count_items(tally: Tally) -> list[dynamo.TransactItem]:
    """The claim (fails if the event was counted already) and the counter updates, for one
    transaction: the event counts exactly once or not at all."""
    expires = int((clock.now() + timedelta(days=CLAIM_DAYS)).timestamp())
    claim = {
        "pk": f"REPORTED#{tally.event_id}",
        "sk": "CLAIM",
        "detail_type": tally.detail_type,
        "counted_at": clock.iso(clock.now()),
        "expires_at": expires,
    }
    return [
        {
            "Put": {
                "TableName": _table(),
                "Item": dynamo.serialize(claim),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        *(_update_item(update) for update in tally.updates),
    ]


def count(tally: Tally) -> bool:
    """Counts the event once; False when its claim exists (a redelivery), and nothing changes."""
    try:
        dynamo.transact_write(count_items(tally))
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(0):
            return False
        raise
    return True


# ---------------------------------------------------------------- reads


def _query(**kwargs: Any) -> Iterator[dict[str, Any]]:
    client = dynamo.client()
    while True:
        response = client.query(TableName=_table(), **kwargs)
        for raw in response.get("Items", []):
            yield dynamo.deserialize(raw)
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _counts(item: dict[str, Any]) -> CampaignCounts:
    statuses = {}
    for name, value in item.items():
        status = status_of_counter(name)
        if status is not None:
            statuses[status] = int(value)
    return CampaignCounts(int(item.get(MEMBERS, 0)), 0, statuses)


def all_campaign_counts() -> tuple[dict[str, CampaignCounts], dict[str, int]]:
    """Every campaign's counters: (CRM campaign -> counts, MA campaign -> members), one Query
    per shard."""
    crm: dict[str, CampaignCounts] = {}
    ma: dict[str, int] = {}
    for shard in range(COUNTER_SHARDS):
        for item in _query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dynamo.serialize_values({":pk": _stats_pk(shard)}),
        ):
            if item.get("kind") == Family.CRM:
                campaign = item["campaign_id"]
                crm[campaign] = crm.get(campaign, CampaignCounts()) + _counts(item)
            elif item.get("kind") == Family.MA:
                ma[item["campaign_id"]] = ma.get(item["campaign_id"], 0) + int(item.get(MEMBERS, 0))
    return crm, ma


def campaign_counts(campaign_id: str, *, crm: bool) -> CampaignCounts:
    """One campaign's counters: a GetItem per shard."""
    client = dynamo.client()
    family = Family.CRM if crm else Family.MA
    total = CampaignCounts()
    for shard in range(COUNTER_SHARDS):
        key = {"pk": _stats_pk(shard), "sk": _campaign_sk(family, campaign_id)}
        raw = client.get_item(TableName=_table(), Key=dynamo.serialize(key)).get("Item")
        if raw:
            total = total + _counts(dynamo.deserialize(raw))
    return total


def funnel_counts(start: date, end: date) -> dict[str, dict[str, int]]:
    """Entries per stage from ``start`` to ``end`` (both included) by scope: ``ALL`` and each MA
    campaign. One Query per shard over the day range."""
    totals: dict[str, dict[str, int]] = {}
    for shard in range(COUNTER_SHARDS):
        for item in _query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues=dynamo.serialize_values(
                {
                    ":pk": _funnel_pk(shard),
                    ":from": f"DAY#{start.isoformat()}#",
                    # "$" sorts right after "#": every scope of the last day, nothing of the next
                    ":to": f"DAY#{end.isoformat()}$",
                }
            ),
        ):
            scope = totals.setdefault(item["scope"], {})
            for stage in STAGES:
                scope[stage] = scope.get(stage, 0) + int(item.get(stage, 0))
    return totals
