"""The HTTP front answers methods that no HTTP API route can name as API Gateway does, in JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from leadflow.clock import AdjustableClock
from leadflow_local.apigw import RouteTable
from leadflow_local.http_front import Front, HttpFront
from leadflow_local.template import RouteSpec


class RecordingFunction:
    """A function that answers 200 and remembers each event, to see what reached it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


@pytest.fixture
def served() -> Iterator[tuple[str, RecordingFunction]]:
    function = RecordingFunction()
    front = Front(
        routes=RouteTable([RouteSpec("Api", "ANY", "/{proxy+}", "Fn", None)]),
        functions={"Fn": function},  # type: ignore[dict-item]
        admin_token="t",
        account="123456789012",
        api_id="api",
        clock=AdjustableClock(),
    )
    http = HttpFront("127.0.0.1", 0)
    http.serve(front.dispatch_noted)
    try:
        yield f"http://127.0.0.1:{http.port}", function
    finally:
        http.stop()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_a_method_no_route_can_name_is_api_gateways_json_404(served, method):
    url, function = served
    response = requests.request(method, f"{url}/anything", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not Found"}
    assert function.events == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_the_seven_routed_methods_reach_an_any_route(served, method):
    url, function = served
    assert requests.request(method, f"{url}/anything", timeout=10).status_code == 200
    assert [event["requestContext"]["http"]["method"] for event in function.events] == [method]
