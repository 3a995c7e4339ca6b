"""The reports' cost: requests and write units per counted event, and the report routes' reads
with 10 and with 1,000 campaigns (and campaign-days), each with few and with many contacts.

Run: ``.venv/bin/python -m bench.reports``. Requests are counted with botocore event hooks on
the handlers' own clients; write units by DynamoDB's rules from the items' sizes (bench/aws_meter.py).
Read units are computed from what each read returned: a Query costs its items' total size rounded
up to 4 KB, a GetItem its item's, each halved for an eventually consistent read (moto's own
ConsumedCapacity is not used, TOOLCHAIN.md).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.aws_meter import item_size

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SHARDS = 16


class ReadMeter:
    """Requests and read units of the DynamoDB reads one route makes."""

    def __init__(self) -> None:
        self.requests = 0
        self.read_units = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("after-call.dynamodb.Query", self._query)
        client.meta.events.register("after-call.dynamodb.GetItem", self._get)

    def reset(self) -> None:
        self.requests, self.read_units = 0, 0.0

    def _units(self, items: list[dict[str, Any]]) -> float:
        from boto3.dynamodb.types import TypeDeserializer

        plain = [{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in items]
        size = sum(item_size(item) for item in plain)
        return max(1, math.ceil(size / 4096)) * 0.5

    def _query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.read_units += self._units(parsed.get("Items", []))

    def _get(self, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.read_units += self._units([parsed["Item"]] if "Item" in parsed else [])


def _bus_record(index: int, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    body = {"detail-type": detail_type, "source": "leadflow", "time": NOW.isoformat(), "detail": detail}
    return {
        "messageId": f"m{index}",
        "receiptHandle": f"r{index}",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ReportQueue",
        "awsRegion": "us-east-1",
    }


EVENTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "CrmCampaignMemberAdded",
        "member added",
        {"campaign_id": "crm-x", "status": "Sent", "responded": False},
    ),
    (
        "CrmCampaignMemberStatusChanged",
        "member status changed (first response)",
        {"campaign_id": "crm-x", "status": "Attended", "previous_status": "Sent", "first_response": True},
    ),
    (
        "CrmCampaignMemberRemoved",
        "member removed",
        {"campaign_id": "crm-x", "previous_status": "Attended", "responded": True},
    ),
    ("ContactCreated", "contact created (with MA campaign)", {"ma_campaign_id": "webinar"}),
    (
        "LifecycleStageChanged",
        "stage changed lead -> sql (with MA campaign)",
        {"from": "lead", "to": "sql", "ma_campaign_id": "webinar"},
    ),
    ("MaCampaignJoined", "MA campaign joined", {"ma_campaign_id": "webinar"}),
]


def per_event() -> list[dict[str, Any]]:
    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws, clock
    from tests.support import functions
    from tests.support.events import LambdaContext

    clock.install(clock.AdjustableClock(start=NOW))
    rows = []
    with moto_stack():
        handler = functions.load("reports").lambda_handler
        meter = Meter()
        meter.attach(aws.client("dynamodb"))
        for index, (kind, label, detail) in enumerate(EVENTS):
            record = _bus_record(index, kind, {"event_id": f"e{index}", "contact_id": f"c{index}", **detail})
            meter.reset()
            assert handler({"Records": [record]}, LambdaContext()) == {"batchItemFailures": []}
            rows.append(
                {"event": label, "requests": sum(meter.requests.values()), "write_units": meter.write_units}
            )
            meter.reset()
            assert handler({"Records": [record]}, LambdaContext()) == {"batchItemFailures": []}
            rows.append(
                {
                    "event": "  the same, redelivered",
                    "requests": sum(meter.requests.values()),
                    "write_units": meter.write_units,
                }
            )
    return rows


def _bundle(campaigns: int, ma_campaigns: int) -> dict[str, Any]:
    crm = [
        {
            "id": f"crm-{n:04d}",
            "kind": "crm",
            "name": f"CRM {n}",
            "parent": "crm-0000" if 0 < n < 10 else (f"crm-{n // 10:04d}" if n >= 10 else None),
            "actual_cost": 100 + n,
            "expected_revenue": 1000,
        }
        for n in range(campaigns)
    ]
    ma = [{"id": f"ma-{n:03d}", "kind": "ma", "name": f"MA {n}"} for n in range(ma_campaigns)]
    return {"campaigns": crm + ma}


def _fill(campaigns: int, ma_campaigns: int, days: int, contacts: int) -> None:
    """Counters as ``contacts`` contacts' events leave them: each contact in one CRM campaign and
    entering the funnel once, so a campaign (or a day's scope) has counter items in as many
    shards as it has contacts, at most 16. Written with the store's update expressions."""
    from leadflow.domain.aggregates import CounterUpdate, Family, Tally
    from leadflow.store import aggregates, dynamo

    updates: list[CounterUpdate] = []
    scopes = ["ALL", *[f"ma-{n:03d}" for n in range(ma_campaigns)]]
    crm_shards = min(SHARDS, max(1, contacts // campaigns))
    day_shards = min(SHARDS, max(1, contacts // (days * len(scopes))))
    per_item = max(1, contacts // (campaigns * crm_shards))
    for n in range(campaigns):
        for shard in range(crm_shards):
            adds = {"members": per_item, "s#Sent": per_item - per_item // 2, "s#Responded": per_item // 2}
            updates.append(CounterUpdate(Family.CRM, f"crm-{n:04d}", shard, adds))
    for n in range(ma_campaigns):
        for shard in range(min(SHARDS, max(1, contacts // ma_campaigns))):
            updates.append(CounterUpdate(Family.MA, f"ma-{n:03d}", shard, {"members": per_item}))
    first = NOW.date() - timedelta(days=days - 1)
    per_day = max(1, contacts // (days * len(scopes) * day_shards))
    stages = {"subscriber": per_day, "lead": per_day, "mql": per_day // 4, "sql": per_day // 8}
    for offset in range(days):
        for scope in scopes:
            for shard in range(day_shards):
                day = first + timedelta(days=offset)
                updates.append(CounterUpdate(Family.FUNNEL, scope, shard, dict(stages), day=day))
    # set-up only, as plain UpdateItems with the store's own expressions: moto copies every table
    # for each transaction (to roll back), which makes 30,000 transactional writes quadratic
    client = dynamo.client()
    for start in range(0, len(updates), 99):
        tally = Tally(f"fill-{start}", "Fill", updates[start : start + 99])
        for item in aggregates.count_items(tally)[1:]:
            client.update_item(**item["Update"])


def reads(campaigns: int, ma_campaigns: int, days: int, contacts: int) -> dict[str, dict[str, float]]:
    from bench.moto_env import moto_stack
    from leadflow import aws, clock
    from tests.support import events, functions

    clock.install(clock.AdjustableClock(start=NOW))
    results: dict[str, dict[str, float]] = {}
    with moto_stack():
        admin = functions.load("admin").lambda_handler
        put = events.http_event(
            "PUT",
            "/v1/admin/definitions",
            body=json.dumps(_bundle(campaigns, ma_campaigns)),
            headers={"content-type": "application/json"},
            iam=True,
        )
        assert admin(put, events.LambdaContext())["statusCode"] == 200
        _fill(campaigns, ma_campaigns, days, contacts)
        meter = ReadMeter()
        meter.attach(aws.client("dynamodb"))
        first = (NOW.date() - timedelta(days=days - 1)).isoformat()
        routes = [
            ("reports/campaigns", "/v1/admin/reports/campaigns", None),
            ("campaigns", "/v1/admin/campaigns", None),
            ("campaigns/{leaf}", f"/v1/admin/campaigns/crm-{campaigns - 1:04d}", None),
            ("campaigns/{parent}", "/v1/admin/campaigns/crm-0000", None),
            ("reports/funnel", "/v1/admin/reports/funnel", {"from": first, "to": NOW.date().isoformat()}),
        ]
        for label, path, query in routes:
            event = events.http_event("GET", path, query=query, iam=True)
            admin(event, events.LambdaContext())  # warm: definitions cached, as in a warm Lambda
            meter.reset()
            response = admin(event, events.LambdaContext())
            assert response["statusCode"] == 200, response["body"]
            results[label] = {
                "requests": meter.requests,
                "read_units": meter.read_units,
            }
    return results


CASES = [
    ("10 campaigns, 10 campaign-days (10 days x 1 MA campaign), 160 contacts", 10, 1, 10, 160),
    ("10 campaigns, 10 campaign-days, 16,000 contacts", 10, 1, 10, 16_000),
    (
        "1,000 campaigns, 1,000 campaign-days (100 days x 10 MA campaigns), 4,000 contacts",
        1000,
        10,
        100,
        4_000,
    ),
]


def main() -> None:
    print("Reports: cost per counted event (one SQS record through the reports function)")
    print(f"{'event':<48} {'requests':>8} {'write units':>12}")
    for row in per_event():
        print(f"{row['event']:<48} {row['requests']:>8} {row['write_units']:>12.0f}")
    print()
    print("Reports: reads per request (DynamoDB requests / read units)")
    table: dict[str, dict[str, dict[str, float]]] = {}
    for label, campaigns, ma, days, contacts in CASES:
        table[label] = reads(campaigns, ma, days, contacts)
    routes = list(next(iter(table.values())))
    print(
        f"{'case (GET /v1/admin/...: requests / read units)':<86}"
        + "".join(f" {route:>20}" for route in routes)
    )
    for label, results in table.items():
        cells = "".join(
            f" {results[r]['requests']:>14.0f} / {results[r]['read_units']:>9.1f}" for r in routes
        )
        print(f"{label:<66}{cells}")


if __name__ == "__main__":
    main()
