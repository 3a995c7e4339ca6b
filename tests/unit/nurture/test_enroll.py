"""Enrolling: re-entry policies, replays of the enrolling activity, disabled flows."""

from __future__ import annotations

import pytest

from leadflow.domain.nurture.engine import Refusal, enroll
from leadflow.domain.nurture.enrollment import Enrollment, EnrollmentState
from tests.unit.nurture.conftest import MONDAY, activity, days, flow_of


def _flow(reentry: str, enabled: bool = True) -> str:
    return f"""
  - id: f
    trigger: {{tag_added: x}}
    reentry: "{reentry}"
    enabled: {str(enabled).lower()}
    steps:
      - {{id: a, send_email: {{template: t1}}}}
"""


def _finished(enrollment: Enrollment) -> Enrollment:
    return enrollment.model_copy(update={"state": EnrollmentState.COMPLETED})


def test_a_first_enrollment_starts_at_the_first_step_due_now() -> None:
    trigger = activity("custom", MONDAY, "a_1", name="x", cart_id="A")
    enrollment = enroll(flow_of(_flow("never")), 3, "c_1", trigger, MONDAY, None)
    assert isinstance(enrollment, Enrollment)
    assert (enrollment.step_id, enrollment.due_at, enrollment.state, enrollment.flow_version) == (
        "a",
        MONDAY,
        EnrollmentState.ACTIVE,
        3,
    )
    assert (enrollment.entry, enrollment.trigger_activity_id, enrollment.trigger["cart_id"]) == (
        1,
        "a_1",
        "A",
    )
    again = enroll(flow_of(_flow("never")), 3, "c_1", trigger, MONDAY, None)
    assert again == enrollment  # deterministic: the same decision gives the same id


@pytest.mark.parametrize(
    ("reentry", "later", "expected"),
    [
        ("never", days(400), "reentry_never"),
        ("always", days(0), None),
        ("after: 7d", days(6), "reentry_too_soon"),
        ("after: 7d", days(7), None),
    ],
)
def test_reentry_policies(reentry: str, later: object, expected: str | None) -> None:
    flow = flow_of(_flow(reentry))
    first = enroll(flow, 1, "c_1", activity("custom", MONDAY, "a_1", name="x"), MONDAY, None)
    assert isinstance(first, Enrollment)
    now = MONDAY + later  # type: ignore[operator]
    second = enroll(flow, 1, "c_1", activity("custom", now, "a_2", name="x"), now, _finished(first))
    if expected is None:
        assert isinstance(second, Enrollment)
        assert second.entry == 2
        assert second.enrollment_id != first.enrollment_id
    else:
        assert second == Refusal(expected)


def test_a_live_enrollment_is_never_doubled_and_a_replayed_trigger_is_recognised() -> None:
    flow = flow_of(_flow("always"))
    trigger = activity("custom", MONDAY, "a_1", name="x")
    first = enroll(flow, 1, "c_1", trigger, MONDAY, None)
    assert isinstance(first, Enrollment)
    assert enroll(flow, 1, "c_1", activity("custom", MONDAY, "a_2", name="x"), MONDAY, first) == Refusal(
        "already_enrolled"
    )
    assert enroll(flow, 1, "c_1", trigger, MONDAY + days(9), _finished(first)) == Refusal("same_trigger")


def test_a_disabled_flow_enrolls_nobody() -> None:
    assert enroll(flow_of(_flow("always", enabled=False)), 1, "c_1", None, MONDAY, None) == Refusal(
        "flow_disabled"
    )
