"""Records each message body in the results table; a body of "poison" always fails alone."""

import os

import boto3

from leadflow import clock


def lambda_handler(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["RESULTS_TABLE"])
    failures = []
    for record in event["Records"]:
        if record["body"] == "poison":
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        table.put_item(
            Item={
                "pk": "work",
                "sk": record["messageId"],
                "body": record["body"],
                "receive_count": record["attributes"]["ApproximateReceiveCount"],
                "processed_at": clock.iso(clock.now()),
            }
        )
    return {"batchItemFailures": failures}
