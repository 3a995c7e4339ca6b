"""Integration fixtures: handlers called in-process on moto, with a definitions bundle applied."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import events, functions
from tests.support.bundles import capture_bundle

type Invoke = Callable[..., dict[str, Any]]


def _invoker(name: str) -> Invoke:
    def invoke(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        event = events.http_event(method, path, **kwargs)
        return functions.load(name).lambda_handler(event, events.LambdaContext(function_name=name))

    return invoke


@pytest.fixture
def capture(aws: object) -> Invoke:
    return _invoker("capture")


@pytest.fixture
def admin(aws: object) -> Invoke:
    return _invoker("admin")


@pytest.fixture
def apply_bundle(admin: Invoke) -> Callable[..., dict[str, Any]]:
    """``apply_bundle(bundle)``; ``allow_removals=True`` when it knowingly removes live items."""

    def apply(bundle: dict[str, Any], *, allow_removals: bool = False) -> dict[str, Any]:
        response = admin(
            "PUT",
            "/v1/admin/definitions",
            body=json.dumps(bundle),
            headers={"content-type": "application/json"},
            query={"allow_removals": "true"} if allow_removals else None,
            iam=True,
        )
        assert response["statusCode"] == 200, response["body"]
        return json.loads(response["body"])

    return apply


@pytest.fixture
def bundle_applied(apply_bundle: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    bundle = capture_bundle()
    apply_bundle(bundle)
    return bundle
