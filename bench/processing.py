"""Processor CPU per activity, I/O excluded, as the scoring model grows.

Run: ``.venv/bin/python -m bench.processing``. Rules are spread the way real models are:
many page-view URL rules, custom events by name, forms by id, downloads by asset type, so
the figure shows whether matching stays indexed (flat) or loops over every rule.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

SEGMENTS = 50
RULE_COUNTS = (10, 100, 1000)
SAMPLES = 2000


def bundle_with(rule_count: int) -> Any:
    from leadflow.definitions import Bundle

    rules: list[dict[str, Any]] = []
    for index in range(rule_count):
        kind = index % 4
        if kind == 0:
            rules.append(
                {
                    "id": f"page-{index}",
                    "when": {"activity": "page_view", "url": f"*/section-{index}/*"},
                    "points": 2,
                }
            )
        elif kind == 1:
            rules.append(
                {
                    "id": f"custom-{index}",
                    "when": {"activity": "custom", "name": f"event-{index}"},
                    "points": 3,
                }
            )
        elif kind == 2:
            rules.append(
                {"id": f"form-{index}", "when": {"activity": "form_submit", "form": "signup"}, "points": 1}
            )
        else:
            rules.append(
                {
                    "id": f"dl-{index}",
                    "when": {"activity": "download", "asset_type": f"type-{index}"},
                    "points": 5,
                }
            )
    segments = [
        {
            "id": f"seg-{index}",
            "kind": "segment",
            "where": {"score_at_least": index * 5, "has_tag": f"t{index % 7}"},
        }
        for index in range(SEGMENTS)
    ]
    return Bundle.model_validate(
        {
            "campaigns": [{"id": "ma", "kind": "ma", "name": "MA"}],
            "forms": [
                {
                    "id": "signup",
                    "campaign": "ma",
                    "fields": [{"name": "email", "type": "email", "required": True}],
                }
            ],
            "scoring": {
                "rules": rules,
                "temperature": {"warm": 30, "hot": 80},
                "qualify": {"mql_score": 10_000},
            },
            "lists": segments,
        }
    )


def cpu_per_activity(rule_count: int) -> dict[str, float]:
    from leadflow.domain.activities import Activity
    from leadflow.domain.processing import process
    from leadflow.domain.state import ContactState

    bundle = bundle_with(rule_count)
    state = ContactState(contact_id="c1", score=40, tags={"t1", "t3"}, stage="lead")
    activity = Activity(
        activity_id="a1",
        type="page_view",
        occurred_at=datetime(2026, 11, 24, tzinfo=UTC),
        contact_id="c1",
        properties={"url": "https://www.example.com/section-4/pricing"},
    )
    for _ in range(200):
        process(bundle, state, activity)
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        process(bundle, state, activity)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p99_ms": samples[int(len(samples) * 0.99)]}


def main() -> None:
    print(
        f"Processor CPU per page-view activity (in-process, no I/O, {SEGMENTS} segments, {SAMPLES} samples)"
    )
    print(f"{'rules':>6} {'median ms':>10} {'p99 ms':>8}")
    for count in RULE_COUNTS:
        row = cpu_per_activity(count)
        print(f"{count:>6} {row['median_ms']:>10.3f} {row['p99_ms']:>8.3f}")
    print_aws()


def aws_per_activity() -> dict[str, dict[str, Any]]:
    """AWS requests and write units to apply one activity, by kind (in-process moto)."""
    import json

    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws, clock
    from leadflow.domain.activities import Activity
    from leadflow.services import capture, definitions, processor
    from tests.support.bundles import scoring_bundle

    with moto_stack():
        definitions.apply(
            json.dumps(scoring_bundle()), content_type="application/json", dry_run=False, applied_by=None
        )

        def contact(email: str) -> str:
            request = capture.SubmissionRequest(fields={"email": email, "consent": True})
            return capture.submit("webinar-signup", request).reply.contact_id

        def activity(kind: str, number: int, **values: Any) -> Activity:
            return Activity(activity_id=f"{kind}-{number}", type=kind, occurred_at=clock.now(), **values)

        warm = contact("warm@example.com")
        processor.handle(activity("email_open", 0, contact_id=warm))
        meter = Meter()
        for service in ("dynamodb", "sqs", "events"):
            meter.attach(aws.client(service))
        results: dict[str, dict[str, Any]] = {}
        cases = {
            "anonymous page view": lambda n: activity(
                "page_view", n, anonymous_id=f"v{n}", properties={"url": "https://x.com/pricing"}
            ),
            "identified email open": lambda n: activity("email_open", n, contact_id=warm),
        }
        for label, make in cases.items():
            meter.reset()
            for number in range(1, 21):
                processor.handle(make(number))
            results[label] = _row(meter, 20)
        # A download that crosses mql_score: a contact at 70 points gets +40 and is handed to sales.
        ready = [contact(f"ready{number}@example.com") for number in range(20)]
        for number, contact_id in enumerate(ready):
            for step in range(2):
                processor.handle(
                    activity(
                        "download",
                        100 + number * 10 + step,
                        contact_id=contact_id,
                        properties={"asset_type": "whitepaper", "topic": f"t{step}"},
                    )
                )
        meter.reset()
        for number, contact_id in enumerate(ready):
            processor.handle(
                activity(
                    "download",
                    900 + number,
                    contact_id=contact_id,
                    properties={"asset_type": "whitepaper", "topic": "pricing"},
                )
            )
        results["qualifying download"] = _row(meter, 20)
        return results


def _row(meter: Any, count: int) -> dict[str, Any]:
    writes = meter.dynamodb_writes()
    return {
        "dynamodb_reads": (meter.count("dynamodb") - writes) / count,
        "dynamodb_writes": writes / count,
        "write_units": meter.write_units / count,
        "sqs": meter.count("sqs") / count,
        "events": meter.count("events") / count,
    }


def print_aws() -> None:
    print("\nProcessor: AWS requests per activity (mean of 20, in-process moto, counted by botocore hooks)")
    print(f"{'kind':24} {'DDB reads':>9} {'DDB writes':>10} {'WCU':>6} {'SQS':>5} {'PutEvents':>9}")
    for label, row in aws_per_activity().items():
        print(
            f"{label:24} {row['dynamodb_reads']:>9.1f} {row['dynamodb_writes']:>10.1f} {row['write_units']:>6.1f}"
            f" {row['sqs']:>5.1f} {row['events']:>9.1f}"
        )


if __name__ == "__main__":
    main()
