"""Inputs the engine must survive: odd stored values, naive times, bad settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadflow.domain.activities import Activity
from leadflow.domain.nurture.effects import UpdateContact
from leadflow.domain.nurture.enrollment import EnrollmentState
from leadflow.domain.nurture.inputs import NurtureSettings
from tests.unit.nurture.conftest import MONDAY, Driver, contact, flow_of


def test_an_unknown_stored_stage_is_passed_by_an_update() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: up, update: {stage: mql}}
      - {id: check, branch: {if: {stage_in: [mql]}, then: yes, else: end}}
      - {id: yes, send_email: {template: t1}}
"""
    )
    driver = Driver(flow, contact(stage="legacy-stage"))
    driver.start(MONDAY)
    assert isinstance(driver.effects[0], UpdateContact)
    assert driver.sent() == ["t1"]


def test_a_time_zone_field_that_is_not_text_falls_back_to_the_default() -> None:
    flow = flow_of(
        "  - id: f\n    trigger: {tag_added: x}\n    steps:\n      - {id: w, wait: {until: {time: '09:00'}}}\n"
    )
    driver = Driver(
        flow, contact(fields={"time_zone": 42}), NurtureSettings(default_time_zone="Europe/Berlin")
    )
    waiting = driver.start(MONDAY)
    assert waiting.due_at == MONDAY + timedelta(hours=22)  # 09:00 Berlin is 08:00 UTC, tomorrow


def test_an_activity_without_a_time_zone_is_read_as_utc() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {activity: {activity: custom, name: cart_abandoned}}
    steps:
      - {id: bought, wait_for: {activity: custom, name: purchase, same: [cart_id], within: 1d}, then: end, else: r}
      - {id: r, send_email: {template: t1}}
"""
    )
    driver = Driver(flow)
    abandoned = Activity(
        activity_id="a1",
        type="custom",
        occurred_at=MONDAY,
        properties={"name": "cart_abandoned", "cart_id": "A"},
    )
    driver.start(MONDAY, abandoned)
    naive = Activity(
        activity_id="a2",
        type="custom",
        occurred_at=(MONDAY + timedelta(hours=1)).replace(tzinfo=None),
        properties={"name": "purchase", "cart_id": "A"},
    )
    driver.step(MONDAY + timedelta(hours=1), naive)
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED
    assert driver.sent() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step_budget": 0}, "step_budget must be at least 1"),
        ({"consent_recheck": timedelta(0)}, "consent_recheck must be positive"),
        ({"audience_best_hour": 168}, "audience_best_hour is an hour of the week"),
        ({"audience_best_hour": -1}, "audience_best_hour is an hour of the week"),
    ],
)
def test_settings_that_would_stall_or_mislead_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NurtureSettings(**changes)  # type: ignore[arg-type]
