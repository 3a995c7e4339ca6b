"""Contract tests: every connector against its vendor's stub on loopback (no network, no AWS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import HARNESSES, Harness, start


@pytest.fixture(params=sorted(HARNESSES))
def crm(request: pytest.FixtureRequest) -> Iterator[Harness]:
    yield from start(request.param)


@pytest.fixture
def salesforce() -> Iterator[Harness]:
    yield from start("salesforce")


@pytest.fixture
def dynamics() -> Iterator[Harness]:
    yield from start("dynamics")


@pytest.fixture
def sugar() -> Iterator[Harness]:
    yield from start("sugarcrm")
