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
            rules.append({"id": f"page-{index}", "when": {"activity": "page_view", "url": f"*/section-{index}/*"}, "points": 2})
        elif kind == 1:
            rules.append({"id": f"custom-{index}", "when": {"activity": "custom", "name": f"event-{index}"}, "points": 3})
        elif kind == 2:
            rules.append({"id": f"form-{index}", "when": {"activity": "form_submit", "form": "signup"}, "points": 1})
        else:
            rules.append({"id": f"dl-{index}", "when": {"activity": "download", "asset_type": f"type-{index}"}, "points": 5})
    segments = [
        {"id": f"seg-{index}", "kind": "segment", "where": {"score_at_least": index * 5, "has_tag": f"t{index % 7}"}}
        for index in range(SEGMENTS)
    ]
    return Bundle.model_validate(
        {
            "campaigns": [{"id": "ma", "kind": "ma", "name": "MA"}],
            "forms": [{"id": "signup", "campaign": "ma", "fields": [{"name": "email", "type": "email", "required": True}]}],
            "scoring": {"rules": rules, "temperature": {"warm": 30, "hot": 80}, "qualify": {"mql_score": 10_000}},
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
    print(f"Processor CPU per page-view activity (in-process, no I/O, {SEGMENTS} segments, {SAMPLES} samples)")
    print(f"{'rules':>6} {'median ms':>10} {'p99 ms':>8}")
    for count in RULE_COUNTS:
        row = cpu_per_activity(count)
        print(f"{count:>6} {row['median_ms']:>10.3f} {row['p99_ms']:>8.3f}")


if __name__ == "__main__":
    main()
