"""The nurture minute run's cost: requests and read capacity with 100 due enrollments among
10,000 and among 100,000 enrolled contacts. The run queries the due-time index only, so the two
figures must stay within 1.2 of each other (issue 12).

Run: ``.venv/bin/python -m bench.nurture`` (``--sizes 10000`` for one size). Read units follow
DynamoDB's rules for a Query: the size of the index items read (GSI1 projects ALL; the index
holds the small ``DUE#<flow>`` lines, not whole enrollments), rounded up to 4 KB per request,
halved for an eventually consistent read. Each line sent is then moved on (one UpdateItem), and a
second run a minute later sends nothing. moto's own ConsumedCapacity is not used (TOOLCHAIN.md).
"""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime, timedelta
from typing import Any

DUE = 100
SIZES = (10_000, 100_000)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _enrollment_items(index: int, due_at: datetime) -> list[dict[str, Any]]:
    from leadflow.domain.nurture.enrollment import Enrollment, EnrollmentState, Hold
    from leadflow.store import enrollments

    enrollment = Enrollment(
        enrollment_id=f"enr_{index:08d}",
        contact_id=f"c_{index:08d}",
        flow_id="welcome",
        flow_version=1,
        entry=1,
        started_at=NOW - timedelta(days=1),
        state=EnrollmentState.WAITING,
        step_id="pause",
        entered=True,
        hold=Hold.WAIT,
        due_at=due_at,
        visits={"hello": 1, "pause": 1},
        steps_run=2,
        revision=2,
    )
    enrollment_put, line_put = enrollments.save_items(enrollment, None, [])[:2]
    return [enrollment_put["Put"]["Item"], line_put["Put"]["Item"]]


def _fill(total: int) -> int:
    """``total`` waiting enrollments, ``DUE`` of them due; returns one due line's size in bytes."""
    from boto3.dynamodb.types import TypeDeserializer

    from bench.aws_meter import item_size
    from leadflow import aws
    from leadflow.settings import get_settings

    client = aws.client("dynamodb")
    table = get_settings().contacts_table
    step = max(1, total // DUE)
    batch: list[dict[str, Any]] = []
    size = 0
    for index in range(total):
        due = (
            NOW - timedelta(seconds=30)
            if index % step == 0 and index // step < DUE
            else NOW + timedelta(days=2)
        )
        # only the due lines: the run never reads the enrollment items beside them
        line = _enrollment_items(index, due)[1]
        if not size:
            deserialize = TypeDeserializer().deserialize
            size = item_size({name: deserialize(value) for name, value in line.items()})
        batch.append({"PutRequest": {"Item": line}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})
    return size


def measure(total: int) -> dict[str, Any]:
    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack

    with moto_stack():
        from leadflow import aws
        from leadflow.services.nurture import schedule

        size = _fill(total)
        meter = Meter()
        client = aws.client("dynamodb")
        meter.attach(client)
        meter.attach(aws.client("sqs"))
        read: list[int] = []
        client.meta.events.register(
            "after-call.dynamodb.Query", lambda parsed, **_: read.append(int(parsed.get("Count", 0)))
        )
        report = schedule.run(NOW)
        assert report.due == DUE, report
        first = dict(meter.requests)
        first_reads = list(read)
        again = schedule.run(NOW + timedelta(minutes=1))
        return {
            "enrolled": total,
            "due": report.due,
            "queries": first["dynamodb.Query"],
            "sqs_batches": first["sqs.SendMessageBatch"],
            "items_read": sum(first_reads),
            "read_units": sum(0.5 * max(1, math.ceil(count * size / 4096)) for count in first_reads),
            "marks": first.get("dynamodb.UpdateItem", 0),
            "line_bytes": size,
            "resent_next_minute": again.due,
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    sizes = parser.parse_args(argv).sizes
    rows = [measure(total) for total in sizes]
    print(
        "| enrolled | due | DynamoDB queries | items read | read units | SQS SendMessageBatch "
        "| lines moved on (UpdateItem) | sent again a minute later |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['enrolled']:,} | {row['due']} | {row['queries']} | {row['items_read']} "
            f"| {row['read_units']:g} | {row['sqs_batches']} | {row['marks']} | {row['resent_next_minute']} |"
        )
    print(f"\none due line: {rows[0]['line_bytes']} bytes")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"\nratio {last['enrolled']:,} / {first['enrolled']:,}: requests "
            f"{(last['queries'] + last['sqs_batches']) / (first['queries'] + first['sqs_batches']):.2f}, "
            f"read units {last['read_units'] / first['read_units']:.2f} (must stay <= 1.2)"
        )


if __name__ == "__main__":
    import os

    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    main()
