"""Echoes the API Gateway event back, raises on /boom, sends messages and events on /send."""

import base64
import json
import os

import boto3


def lambda_handler(event, context):
    route = event["routeKey"]
    if route == "POST /boom":
        raise RuntimeError("boom")
    if route == "POST /send":
        return _send(json.loads(event["body"]))
    if route == "ANY /echo/{proxy+}" and event.get("queryStringParameters", {}).get("shape") == "bare":
        return {"bare": True}
    if route == "ANY /echo/{proxy+}" and event.get("queryStringParameters", {}).get("shape") == "binary":
        return {
            "statusCode": 200,
            "headers": {"content-type": "image/gif"},
            "isBase64Encoded": True,
            "body": base64.b64encode(b"GIF89a-binary").decode(),
        }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-greeting": os.environ["GREETING"]},
        "cookies": ["first=1; Path=/", "second=2; Path=/"],
        "body": json.dumps(
            {
                "event": event,
                "function_name": context.function_name,
                "remaining_ms": context.get_remaining_time_in_millis(),
                "public_url": os.environ["PUBLIC_URL"],
            }
        ),
    }


def _send(order):
    if "message" in order:
        boto3.client("sqs").send_message(
            QueueUrl=os.environ["WORK_QUEUE_URL"],
            MessageBody=order["message"],
            DelaySeconds=order.get("delay", 0),
        )
    if "event" in order:
        boto3.client("events").put_events(
            Entries=[
                {
                    "EventBusName": os.environ["BUS_NAME"],
                    "Source": "fixture",
                    "DetailType": order["event"],
                    "Detail": json.dumps(order.get("detail", {})),
                }
            ]
        )
    return {"statusCode": 202, "body": ""}
