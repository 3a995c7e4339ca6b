"""Records schedule firings and EventBridge events in the results table, with the stack's time.

A firing of kind ``fail`` raises, for the schedule retry and dead-letter path."""

import json
import os
import uuid

import boto3

from leadflow import clock


def lambda_handler(event, context):
    if event.get("kind") == "fail":
        raise RuntimeError("this job always fails")
    table = boto3.resource("dynamodb").Table(os.environ["RESULTS_TABLE"])
    kind = "tick" if event.get("kind") == "tick" else "event"
    table.put_item(
        Item={
            "pk": kind,
            "sk": f"{clock.iso(clock.now())}#{uuid.uuid4()}",
            "event": json.dumps(event),
            "now": clock.iso(clock.now()),
        }
    )
