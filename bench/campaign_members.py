"""The campaign member routes' cost: AWS requests and DynamoDB units per admin call.

Run: ``.venv/bin/python -m bench.campaign_members``. Requests are counted with botocore hooks on
the clients the admin handler uses (in-process moto); write units are computed from item sizes
(``bench.aws_meter``); read units are per request (0.5 eventually consistent, 1 consistent), a
lower bound for a query that returns more than 4 KB.
"""

from __future__ import annotations

import json
import os
from typing import Any

CAMPAIGN = "crm-bench"
MEMBERS = 200
SAMPLES = 20


def _bundle() -> dict[str, Any]:
    from tests.support.bundles import capture_bundle

    bundle = capture_bundle()
    bundle["campaigns"].append(
        {
            "id": CAMPAIGN,
            "kind": "crm",
            "name": "Bench",
            "status": "active",
            "member_statuses": [
                {"name": "Sent", "default": True},
                {"name": "Registered", "responded": True},
                {"name": "Attended", "responded": True},
            ],
        }
    )
    return bundle


def per_call() -> dict[str, dict[str, float]]:
    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws
    from leadflow.observability import metrics
    from tests.support import events, functions

    with moto_stack():
        admin = functions.load("admin").lambda_handler
        capture = functions.load("capture").lambda_handler

        def call(method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None) -> Any:
            event = events.http_event(
                method,
                path,
                body=json.dumps(body) if body is not None else None,
                headers={"content-type": "application/json"},
                query=query,
            )
            response = admin(event, events.LambdaContext())
            # Disabled metrics are kept, not flushed, and Powertools prints them at 100 values
            metrics.clear_metrics()
            assert response["statusCode"] < 300, response["body"]
            return json.loads(response["body"]) if response.get("body") else None

        call("PUT", "/v1/admin/definitions", body=_bundle())
        contacts = []
        for index in range(MEMBERS):
            event = events.http_event(
                "POST",
                "/v1/forms/ebook/submissions",
                body=json.dumps({"fields": {"email": f"m{index}@example.com"}}),
                headers={"content-type": "application/json"},
            )
            contacts.append(json.loads(capture(event, events.LambdaContext())["body"])["contact_id"])
            metrics.clear_metrics()
        meter = Meter()
        for service in ("dynamodb", "sqs", "events"):
            meter.attach(aws.client(service))
        member = f"/v1/admin/campaigns/{CAMPAIGN}/members"
        call("GET", member)  # definitions into the cache, as a warm Lambda has them

        results: dict[str, dict[str, float]] = {}

        def measure(label: str, calls: list[tuple[str, str, Any, dict[str, str] | None]]) -> None:
            meter.reset()
            for method, path, body, query in calls:
                call(method, path, body=body, query=query)
            count = len(calls)
            results[label] = {
                "reads": (meter.count("dynamodb") - meter.dynamodb_writes()) / count,
                "read_units": meter.read_units / count,
                "writes": meter.dynamodb_writes() / count,
                "write_units": meter.write_units / count,
                "sqs": meter.count("sqs") / count,
            }

        sample = contacts[:SAMPLES]
        measure("PUT: add (default status)", [("PUT", f"{member}/{c}", {}, None) for c in sample])
        measure("PUT: replay of the add ({})", [("PUT", f"{member}/{c}", {}, None) for c in sample])
        measure(
            "PUT: status change",
            [("PUT", f"{member}/{c}", {"status": "Registered"}, None) for c in sample],
        )
        measure(
            "PUT: same status again",
            [("PUT", f"{member}/{c}", {"status": "Registered"}, None) for c in sample],
        )
        measure("DELETE", [("DELETE", f"{member}/{c}", None, None) for c in sample])
        for index, contact_id in enumerate(contacts):
            call("PUT", f"{member}/{contact_id}", body={"status": "Attended" if index % 4 == 0 else "Sent"})
        measure("GET members, a page of 50", [("GET", member, None, {"limit": "50"})] * 5)
        measure(
            "GET members, status=Attended (1 in 4), 50",
            [("GET", member, None, {"limit": "50", "status": "Attended"})] * 5,
        )
        measure(
            "GET history, a page of 50",
            [("GET", f"/v1/admin/campaigns/{CAMPAIGN}/history", None, {"limit": "50"})] * 5,
        )
        return results


def main() -> None:
    import warnings

    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # no EMF lines between the rows
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    costs = per_call()
    print(
        f"Campaign member routes: AWS requests per call ({MEMBERS} members, in-process moto, botocore hooks)"
    )
    print(f"{'call':44} {'DDB reads':>9} {'RCU':>5} {'DDB writes':>10} {'WCU':>5} {'SQS':>4}")
    for label, row in costs.items():
        print(
            f"{label:44} {row['reads']:>9.1f} {row['read_units']:>5.1f} {row['writes']:>10.1f}"
            f" {row['write_units']:>5.1f} {row['sqs']:>4.1f}"
        )


if __name__ == "__main__":
    main()
