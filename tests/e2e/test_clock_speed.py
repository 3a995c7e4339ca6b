"""``--clock-speed``: the stack's time runs N times faster, and schedules fire at that pace.

The one e2e test that needs real time to pass: at 3000x a 5-minute schedule fires every
0.1 s, so it polls for a bounded few seconds instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from leadflow_local.stack import DevStack
from tests.e2e.conftest import FIXTURE_TEMPLATE, TOKEN, scan

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fast_stack() -> Iterator[DevStack]:
    with DevStack(port=0, template=FIXTURE_TEMPLATE, admin_token=TOKEN, clock_speed=3000) as stack:
        yield stack


def test_a_schedule_fires_at_the_accelerated_pace(fast_stack: DevStack) -> None:
    started, real_start = fast_stack.now(), time.monotonic()
    deadline = real_start + 10
    while len(scan(fast_stack, "leadflow-local-Results", "tick")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(scan(fast_stack, "leadflow-local-Results", "tick")) >= 2
    virtual = (fast_stack.now() - started).total_seconds()
    real = time.monotonic() - real_start
    assert virtual >= 10 * 60
    assert virtual > 1000 * real
