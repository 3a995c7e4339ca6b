"""Records schedule firings and EventBridge events in the results table, with the stack's time."""

import json
import os
import uuid

import boto3

from leadflow import clock


def lambda_handler(event, context):
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
