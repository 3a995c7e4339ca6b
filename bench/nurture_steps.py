"""Nurture step cost: AWS requests and DynamoDB write units per email step and per wait step.

Run: ``.venv/bin/python -m bench.nurture_steps [--contacts 20]``. In-process moto with the
template's resources; each contact signs up through the capture handler, the process handler
enrolls it, and the nurture handler runs the step messages as the step queue delivers them. Only
the nurture handler's own calls are counted (botocore hooks on the clients it uses; the queue's
delivery is Lambda's poller, not the function). The flow:

    hello: send_email -> pause: wait 1d -> again: wait 1d -> news: send_email -> rest: wait 1d

so the three step messages are (1) the first email, then holding at a wait; (2) a wait ending
and the next wait holding ("a wait step"); (3) a wait ending, an email, the next wait holding.
(3) minus (2) is what an email step adds. Write units are computed from the written items'
sizes by DynamoDB's rules (``bench/aws_meter.py``: 1 per started KB, doubled in a transaction,
plus the GSI write), not from moto's ConsumedCapacity, which is wrong (TOOLCHAIN.md).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from datetime import timedelta
from typing import Any

CONTACTS = 20
SENDER = "Bench News <news@example.com>"
FLOW = {
    "id": "steps",
    "trigger": {"form_submitted": "webinar-signup"},
    "steps": [
        {"id": "hello", "send_email": {"template": "hello"}},
        {"id": "pause", "wait": "1d"},
        {"id": "again", "wait": "1d"},
        {"id": "news", "send_email": {"template": "news"}},
        {"id": "rest", "wait": "1d"},
    ],
}
TEMPLATES = [
    {
        "id": "hello",
        "subject": "Welcome, {{ first_name | default('friend') }}",
        "html": '<p>Thanks for joining. <a href="https://www.example.com/start">Start here</a>.</p>',
    },
    {
        "id": "news",
        "subject": "What is new this week",
        "html": '<p>Three things. <a href="https://www.example.com/news">Read them</a>.</p>',
    },
]
PHASES = ("first email, then a wait holds", "a wait ends, the next wait holds", "a wait ends, email, wait")


def _ready_to_send() -> None:
    """A verified sender, the configuration set, the signing key and the public URL."""
    import boto3

    from leadflow.adapters import secrets
    from leadflow.settings import reset_settings

    ses = boto3.client("sesv2")
    ses.create_email_identity(EmailIdentity="example.com")
    configuration_set = os.environ.get("SES_CONFIGURATION_SET") or "leadflow-email"
    if configuration_set not in ses.list_configuration_sets()["ConfigurationSets"]:
        ses.create_configuration_set(ConfigurationSetName=configuration_set)
    arn = boto3.client("secretsmanager").create_secret(Name="bench-mail-key", SecretString="k" * 32)["ARN"]
    os.environ.update(
        {
            "SES_CONFIGURATION_SET": configuration_set,
            "TRACKING_SECRET_ARN": arn,
            "EMAIL_SENDER": SENDER,
            "PUBLIC_BASE_URL": "https://api.example.com",
        }
    )
    reset_settings()
    secrets.forget_cached()


def measure(contacts: int) -> dict[str, dict[str, Any]]:
    """Per phase: mean requests by operation and mean write units per step message."""
    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws, clock
    from leadflow.settings import get_settings
    from tests.support import events, functions, queues
    from tests.support.bundles import capture_bundle

    adjustable = clock.AdjustableClock(speed=1e-9)
    previous = clock.install(adjustable)
    try:
        with moto_stack():
            _ready_to_send()
            settings = get_settings()
            bundle = capture_bundle() | {"flows": [FLOW], "email_templates": TEMPLATES}
            admin = functions.load("admin").lambda_handler
            put = events.http_event(
                "PUT",
                "/v1/admin/definitions",
                body=json.dumps(bundle),
                headers={"content-type": "application/json"},
            )
            assert admin(put, events.LambdaContext())["statusCode"] == 200
            capture = functions.load("capture").lambda_handler
            process = functions.load("process").lambda_handler
            nurture = functions.load("nurture").lambda_handler
            for number in range(contacts):
                body = json.dumps({"fields": {"email": f"step{number}@example.com", "consent": True}})
                post = events.http_event(
                    "POST",
                    "/v1/forms/webinar-signup/submissions",
                    body=body,
                    headers={"content-type": "application/json"},
                )
                assert capture(post, events.LambdaContext())["statusCode"] == 202
            queues.drain(process, settings.activity_queue_url)
            meter = Meter()
            for service in ("dynamodb", "sqs", "sesv2", "events", "secretsmanager"):
                meter.attach(aws.client(service))
            meter.attach(aws.single_attempt_client("sesv2"))  # the send path's own client
            results: dict[str, dict[str, Any]] = {}
            for phase in PHASES:
                if phase != PHASES[0]:
                    adjustable.advance(timedelta(days=1, minutes=1))
                    minute = nurture({"job": "due"}, events.LambdaContext(function_name="nurture"))
                    assert minute["due"] == contacts, minute
                meter.reset()
                delivered = 0
                while not queues.deliver(nurture, settings.step_queue_url).get("empty"):
                    delivered += 1
                operations = Counter(meter.requests)
                assert delivered >= 1, phase
                emails = operations["sesv2.SendEmail"]
                assert emails == (0 if phase == PHASES[1] else contacts), (phase, emails)
                results[phase] = {
                    "requests": {name: count / contacts for name, count in sorted(operations.items())},
                    "total": sum(operations.values()) / contacts,
                    "dynamodb_writes": meter.dynamodb_writes() / contacts,
                    "write_units": meter.write_units / contacts,
                }
            return results
    finally:
        clock.install(previous)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=CONTACTS)
    contacts = parser.parse_args(argv).contacts
    results = measure(contacts)
    print(f"Nurture step messages: mean per contact over {contacts} (requests of the nurture handler only)")
    print("| step message | AWS requests | DynamoDB write requests | write units | requests by operation |")
    print("| --- | ---: | ---: | ---: | --- |")
    for phase, row in results.items():
        operations = ", ".join(f"{name} {count:g}" for name, count in row["requests"].items())
        print(
            f"| {phase} | {row['total']:g} | {row['dynamodb_writes']:g} | {row['write_units']:g} | {operations} |"
        )
    wait, both = results[PHASES[1]], results[PHASES[2]]
    print(
        f"\nwhat an email step adds (row 3 - row 2): {both['total'] - wait['total']:g} requests, "
        f"{both['dynamodb_writes'] - wait['dynamodb_writes']:g} DynamoDB writes, "
        f"{both['write_units'] - wait['write_units']:g} write units"
    )


if __name__ == "__main__":
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    main()
