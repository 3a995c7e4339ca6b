"""Capture cost: AWS requests and DynamoDB write units per submission, and the first request's
one-off work (the import itself is in ``bench.cold_start`` with every other function).

Run: ``.venv/bin/python -m bench.capture``. Requests are counted with botocore hooks on the
very clients the handler uses (in-process moto); write units are computed from item sizes.
Update writes are costed on the new values only (a lower bound: DynamoDB charges the larger
of the old and new item).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = 20

FIRST_REQUEST = (
    "import os\n"
    "from leadflow.domain.emails import normalise_email\n"
    "stored = json.loads(open(os.environ['BENCH_STORED_BUNDLE']).read())\n"
    "_t = time.perf_counter()\n"
    "from leadflow.definitions import load_stored\n"
    "load_stored(stored); normalise_email('Ann@Example.com')\n"
)


def first_request_ms(runs: int = 7) -> float:
    """The capture container's one-off work on its first request, after its imports (median)."""
    from bench.cold_start import _FUNCTION, sample
    from leadflow.definitions import parse_bundle

    stored = parse_bundle((ROOT / "examples" / "demo.yaml").read_text()).to_json_dict()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(stored, handle)
    os.environ["BENCH_STORED_BUNDLE"] = handle.name
    code = _FUNCTION.format(path=str(ROOT / "functions" / "capture" / "app.py")) + FIRST_REQUEST
    try:
        return statistics.median(sample(code, "capture")["wall_ms"] for _ in range(runs))
    finally:
        Path(handle.name).unlink()


def per_submission() -> dict[str, Any]:
    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws
    from tests.support import events, functions
    from tests.support.bundles import capture_bundle

    with moto_stack():
        admin = functions.load("admin").lambda_handler
        capture = functions.load("capture").lambda_handler
        put = events.http_event(
            "PUT",
            "/v1/admin/definitions",
            body=json.dumps(capture_bundle()),
            headers={"content-type": "application/json"},
        )
        assert admin(put, events.LambdaContext())["statusCode"] == 200
        meter = Meter()
        for service in ("dynamodb", "sqs", "events"):
            meter.attach(aws.client(service))

        def submit(email: str, key: str | None = None) -> None:
            headers = {"content-type": "application/json", **({"idempotency-key": key} if key else {})}
            body = json.dumps(
                {
                    "fields": {"email": email, "first_name": "Ann", "company": "Acme", "consent": True},
                    "context": {"utm_source": "bench", "page_url": "https://www.example.com/w"},
                }
            )
            event = events.http_event(
                "POST",
                "/v1/forms/webinar-signup/submissions",
                body=body,
                headers=headers,
                path_parameters={"form_id": "webinar-signup"},
            )
            response = capture(event, events.LambdaContext())
            assert response["statusCode"] == 202, response["body"]

        submit("warmup@example.com")  # load definitions into the cache, as a warm Lambda has them
        results: dict[str, Any] = {}
        for label, emails, key in [
            ("new contact", [f"new{index}@example.com" for index in range(SUBMISSIONS)], None),
            ("returning contact", [f"new{index}@example.com" for index in range(SUBMISSIONS)], None),
            (
                "new contact + Idempotency-Key",
                [f"key{index}@example.com" for index in range(SUBMISSIONS)],
                "k",
            ),
        ]:
            meter.reset()
            for index, email in enumerate(emails):
                submit(email, f"{key}-{index}" if key else None)
            results[label] = {
                "dynamodb_reads": (meter.count("dynamodb") - meter.dynamodb_writes()) / len(emails),
                "dynamodb_writes": meter.dynamodb_writes() / len(emails),
                "write_units": meter.write_units / len(emails),
                "sqs_sends": meter.count("sqs") / len(emails),
                "other_requests": (meter.count("events")) / len(emails),
                "requests": dict(sorted(meter.requests.items())),
            }
        return results


def main() -> None:
    costs = per_submission()
    print(
        f"Capture: AWS requests per submission (mean of {SUBMISSIONS}, in-process moto, counted by botocore hooks)"
    )
    print(f"{'case':32} {'DDB reads':>9} {'DDB writes':>10} {'WCU':>6} {'SQS sends':>9} {'other':>6}")
    for label, row in costs.items():
        print(
            f"{label:32} {row['dynamodb_reads']:>9.1f} {row['dynamodb_writes']:>10.1f} {row['write_units']:>6.1f}"
            f" {row['sqs_sends']:>9.1f} {row['other_requests']:>6.1f}"
        )
    print(
        "\nCapture's first request, once per container after its imports (parse the stored demo bundle,"
        f" first email check; median of 7): {first_request_ms():.0f} ms"
    )


if __name__ == "__main__":
    main()
