"""E2E fixtures: the local stack (the same code as ``make dev``) in-process on a free port.

Each fixture is module-scoped and torn down at the end of its module: moto's backends are
process-wide, so one stack runs at a time per process, and ``stop()`` restores the
environment and clock for whatever test runs next in the same worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from leadflow_local.stack import DEFAULT_DEFINITIONS, DevStack

HERE = Path(__file__).resolve().parent
FIXTURE_TEMPLATE = HERE / "fixture_app" / "template.yaml"
BUNDLE = HERE / "bundle.yaml"
TOKEN = "e2e-admin-token"


@pytest.fixture(scope="module")
def leadflow_stack() -> Iterator[DevStack]:
    """template.yaml with Leadflow's real handlers and the e2e bundle applied.

    A handler missing or renamed stops the start with a TemplateError naming it: a loud failure.
    """
    with DevStack(port=0, definitions=BUNDLE, admin_token=TOKEN) as stack:
        yield stack


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[DevStack]:
    """What ``make dev PORT=<free port>`` runs: template.yaml and examples/demo.yaml, on a port not 3000."""
    with DevStack(port=0, definitions=DEFAULT_DEFINITIONS, admin_token=TOKEN) as stack:
        assert stack.port != 3000
        yield stack


@pytest.fixture(scope="module")
def fixture_stack() -> Iterator[DevStack]:
    """A small app exercising every mechanism of the stack, independent of Leadflow's handlers."""
    with DevStack(port=0, template=FIXTURE_TEMPLATE, admin_token=TOKEN) as stack:
        yield stack


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def scan(stack: DevStack, table: str, pk: str) -> list[dict[str, Any]]:
    """Items of one partition of a fixture table, as plain strings."""
    items = stack.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]
    return [{key: value.get("S", value.get("N")) for key, value in item.items()} for item in items]
