"""Capture cost: AWS requests and DynamoDB write units per submission, and cold-start imports.

Run: ``.venv/bin/python -m bench.capture``. Requests are counted with botocore hooks on the
very clients the handler uses (in-process moto); write units are computed from item sizes.
Update writes are costed on the new values only (a lower bound: DynamoDB charges the larger
of the old and new item).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = 20

BASELINE = (
    "import boto3\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "Logger(); Metrics(); Tracer(); APIGatewayHttpResolver()\n"
)
CAPTURE = (
    "import importlib.util\n"
    f"spec = importlib.util.spec_from_file_location('capture_app', {str(ROOT / 'functions/capture/app.py')!r})\n"
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
)


def _import_ms(code: str, runs: int) -> float:
    timer = "import time\n_t = time.perf_counter()\n" + code + "print((time.perf_counter() - _t) * 1000)\n"
    env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": "capture",  # Powertools Tracer behaves as in Lambda
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    samples = []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", timer], capture_output=True, text=True, check=True, env=env, cwd=ROOT
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


FIRST_REQUEST = (
    "import json, os\n"
    "from leadflow.domain.emails import normalise_email\n"
    "stored = json.loads(open(os.environ['BENCH_STORED_BUNDLE']).read())\n"
    "_t = time.perf_counter()\n"
    "from leadflow.definitions import load_stored\n"
    "load_stored(stored); normalise_email('Ann@Example.com')\n"
)


def cold_start(runs: int = 9) -> dict[str, float]:
    _import_ms(BASELINE + CAPTURE, 1)  # warm the bytecode cache for both
    baseline = _import_ms(BASELINE, runs)
    capture = _import_ms(CAPTURE, runs)
    import tempfile

    from leadflow.definitions import parse_bundle

    stored = parse_bundle((ROOT / "examples" / "demo.yaml").read_text()).to_json_dict()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(stored, handle)
    os.environ["BENCH_STORED_BUNDLE"] = handle.name
    try:
        first = _import_ms(CAPTURE + FIRST_REQUEST, runs)
    finally:
        Path(handle.name).unlink()
    return {
        "baseline_ms": baseline,
        "capture_ms": capture,
        "ratio": capture / baseline,
        "first_request_extra_ms": first,
    }


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
    start = cold_start()
    print("\nCold-start imports (median of 9 fresh interpreters)")
    print(f"  boto3 + Powertools (Logger, Metrics, Tracer, resolver): {start['baseline_ms']:.0f} ms")
    print(f"  capture handler module:                                  {start['capture_ms']:.0f} ms")
    print(f"  ratio: {start['ratio']:.2f} (target <= 1.30)")
    print(
        "  first request's one-off work (parse the stored demo bundle, first email check): "
        f"{start['first_request_extra_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
