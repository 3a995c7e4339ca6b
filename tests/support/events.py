"""API Gateway HTTP API (payload 2.0) events and a Lambda context, built by the local stack's code.

``http_event`` is ``leadflow_local.apigw.build_event`` (what ``make dev`` hands the handlers) on a
request shaped from the arguments, so the tests and the local stack cannot disagree on the event.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from leadflow import clock
from leadflow_local.apigw import HttpRequest, build_event, iam_identity, new_request_id
from leadflow_local.lambda_runtime import LambdaContext as RuntimeContext
from leadflow_local.template import RouteSpec

ACCOUNT = "123456789012"
HOST = "api.example.com"
SOURCE_IP = "203.0.113.9"


def LambdaContext(  # noqa: N802 - named as the class it makes: the tests' callers read it as one
    function_name: str = "leadflow-test", *, timeout_seconds: float = 10.0, memory_mb: int = 512
) -> RuntimeContext:
    """The local stack's Lambda context for one test invocation (its clock starts now)."""
    return RuntimeContext.start(function_name, memory_mb=memory_mb, timeout_seconds=timeout_seconds)


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
    """The event API Gateway sends for this request; ``iam`` adds the IAM caller of admin routes."""
    route_method, _, route_path = (route_key or f"{method} {path}").partition(" ")
    route = RouteSpec(api="HttpApi", method=route_method, path=route_path, function="", authorizer=None)
    pairs = list((headers or {}).items())
    if not any(name.lower() == "host" for name, _ in pairs):
        pairs.append(("host", HOST))
    request = HttpRequest(
        method=method,
        target=path + (f"?{urlencode(query)}" if query else ""),
        headers=pairs,
        body=body.encode() if isinstance(body, str) else (body or b""),
        source_ip=SOURCE_IP,
    )
    return build_event(
        route,
        path_parameters or {},
        request,
        request_id=new_request_id(),
        now=clock.now(),
        api_id="httpapi",
        account=ACCOUNT,
        authorizer=iam_identity(ACCOUNT) if iam else None,
    )


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
