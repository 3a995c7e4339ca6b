"""API Gateway HTTP API (payload 2.0) events and a Lambda context, as AWS delivers them."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass
class LambdaContext:
    function_name: str = "leadflow-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:leadflow-test"
    aws_request_id: str = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    iam: bool = False,
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    is_text = raw is not None and (headers or {}).get("content-type", "").startswith("application/json")
    if is_text and raw is not None:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    encoded = None if raw is None else (raw.decode() if is_text else base64.b64encode(raw).decode())
    request_id = str(uuid.uuid4())
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.9",
            "userAgent": "t",
        },
        "requestId": request_id,
        "routeKey": route_key or f"{method} {path}",
        "stage": "$default",
        "time": "24/Nov/2026:12:00:00 +0000",
        "timeEpoch": 1795000000000,
    }
    if iam:
        context["authorizer"] = {
            "iam": {"userArn": "arn:aws:iam::123456789012:user/admin", "accountId": "123"}
        }
    return {
        "version": "2.0",
        "routeKey": context["routeKey"],
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {key.lower(): value for key, value in (headers or {}).items()},
        "queryStringParameters": query,
        "pathParameters": path_parameters,
        "requestContext": context,
        "body": encoded,
        "isBase64Encoded": bool(raw is not None and not is_text),
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
