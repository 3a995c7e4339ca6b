"""Imports: rows per second through the local stack, and AWS requests and write units per row.

Run: ``.venv/bin/python -m bench.imports [--rows 10000 --rows 100000] [--meter-rows 200]``.

Through the local stack (as ``make dev`` runs it): a fresh stack per size, a CSV of new
contacts (email, first_name, company, status) posted over HTTP (inline gzip, or through the
upload URL when the gzip is over 4 MiB, as the CLI decides), then the import polled until it is
``completed``. The time is from the post to ``completed``; the activity consumer runs meanwhile
(the contacts' ``contact_imported`` and ``crm_status_changed`` activities), as it would.

Per row (in-process moto, the import worker's botocore clients metered): the AWS requests one
chunk of new rows costs and the DynamoDB write units by DynamoDB's published rules, for new
contacts and for a second file that updates each of them.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "tests" / "e2e" / "imports_bundle.yaml"
INLINE = 4 * 1024 * 1024


def _csv(rows: int, *, company: str = "Acme") -> bytes:
    lines = ["email,first_name,company,status"]
    statuses = ("Invited", "Registered", "Attended", "")
    lines += [f"bench{n}@example.com,Person {n},{company} {n % 97},{statuses[n % 4]}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def through_stack(rows: int) -> dict[str, Any]:
    import requests

    from leadflow_local.stack import DevStack

    body = _csv(rows)
    packed = gzip.compress(body)
    headers = {"Authorization": "Bearer bench"}
    with (
        contextlib.redirect_stdout(io.StringIO()),
        DevStack(port=0, definitions=BUNDLE, admin_token="bench") as stack,
    ):
        url = f"{stack.url}/v1/admin/campaigns/expo-2026/imports"
        started = time.perf_counter()
        if len(packed) <= INLINE:
            reply = requests.post(
                url,
                data=packed,
                headers={**headers, "Content-Type": "text/csv", "Content-Encoding": "gzip"},
                timeout=120,
            )
            path = "inline"
        else:
            offer = requests.post(url, json={"upload": True}, headers=headers, timeout=60).json()
            requests.put(offer["upload_url"], data=body, timeout=600).raise_for_status()
            reply = requests.post(
                f"{stack.url}/v1/admin/imports/{offer['upload_id']}/start", headers=headers, timeout=600
            )
            path = "upload"
        reply.raise_for_status()
        import_id = reply.json()["import_id"]
        while True:
            view = requests.get(
                f"{stack.url}/v1/admin/imports/{import_id}", headers=headers, timeout=900
            ).json()
            if view["status"] != "running":
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
    assert view["status"] == "completed", view
    assert view["counts"]["created"] == rows, view["counts"]
    return {"rows": rows, "seconds": elapsed, "path": path, "bytes": len(body), "gzip": len(packed)}


def metered(rows: int) -> list[tuple[str, dict[str, float]]]:
    """AWS requests and write units per row of one chunk, in-process moto (created, then updated)."""
    from moto import mock_aws

    from bench.aws_meter import Meter

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from leadflow_local.moto_speedups import MotoSpeedups

    results = []
    speedups = MotoSpeedups()  # as the local stack runs moto: requests cost what they touch
    speedups.install()
    with mock_aws():
        from leadflow import aws as aws_clients
        from leadflow.services import definitions
        from leadflow.settings import reset_settings
        from tests.support.moto_stack import create_stack

        stack = create_stack()
        os.environ.update(stack.environment())
        os.environ["DEFINITIONS_CACHE_SECONDS"] = "300"
        reset_settings()
        aws_clients.reset_clients()
        definitions.forget_cached()
        definitions.apply(
            BUNDLE.read_text(), content_type="application/yaml", dry_run=False, applied_by="bench"
        )
        for label, body in (
            ("new contacts", _csv(rows)),
            ("each contact updated", _csv(rows, company="Initech")),
        ):
            results.append((label, _meter_one(body, rows, Meter)))
    speedups.uninstall()
    return results


def _meter_one(body: bytes, rows: int, meter_class: Any) -> dict[str, float]:
    from leadflow import aws as aws_clients
    from leadflow.adapters.import_queue import ImportMessage
    from leadflow.services.imports import csv_import, worker
    from leadflow.store import imports as imports_store

    accepted = csv_import.accept_file("expo-2026", body, None)
    record = imports_store.get_import(accepted.import_id)
    assert record is not None
    worker.handle(ImportMessage(import_id=accepted.import_id, step="plan"))
    sqs = aws_clients.client("sqs")
    queue = os.environ["IMPORT_QUEUE_URL"]
    chunks = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            parsed = ImportMessage.model_validate_json(message["Body"])
            if parsed.step == "chunk":
                chunks.append(parsed)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    meter = meter_class()
    for service in ("dynamodb", "sqs", "s3"):
        meter.attach(aws_clients.client(service))
    for chunk in chunks:
        worker.handle(chunk)
    view = imports_store.get_import(accepted.import_id)
    assert view is not None
    assert view.status == "completed", view
    reads = sum(
        count
        for name, count in meter.requests.items()
        if name.split(".")[1] in ("GetItem", "Query", "BatchGetItem")
    )
    return {
        "dynamodb reads": reads / rows,
        "dynamodb write requests": meter.dynamodb_writes() / rows,
        "write units": meter.write_units / rows,
        "sqs requests": meter.count("sqs") / rows,
        "s3 requests": meter.count("s3") / rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, action="append", help="file sizes (default 10000 and 100000)")
    parser.add_argument("--meter-rows", type=int, default=500)
    parser.add_argument("--skip-stack", action="store_true", help="only the per-row meter")
    args = parser.parse_args(argv)
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    print(f"per row, one chunk of {args.meter_rows} rows, in-process moto")
    print("| file | DynamoDB reads | DynamoDB write requests | write units | SQS requests | S3 requests |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, figures in metered(args.meter_rows):
        print(f"| {label} | " + " | ".join(f"{value:.2f}" for value in figures.values()) + " |")
    if args.skip_stack:
        return
    print()
    print("| rows | path | CSV bytes | gzip bytes | seconds to completed | rows per second |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    results = []
    for rows in args.rows or [10_000, 100_000]:
        result = through_stack(rows)
        results.append(result)
        print(
            f"| {rows:,} | {result['path']} | {result['bytes']:,} | {result['gzip']:,} | "
            f"{result['seconds']:.1f} | {rows / result['seconds']:.0f} |",
            flush=True,
        )
    if len(results) >= 2:
        ratio = results[-1]["seconds"] / results[0]["seconds"]
        print(f"\n{results[-1]['rows']:,} rows took {ratio:.1f}x the time of {results[0]['rows']:,}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
