"""New versions of a flow: the on_change policy, removed flows and steps, disabled flows."""

from __future__ import annotations

from leadflow.domain.nurture.engine import advance
from leadflow.domain.nurture.enrollment import EnrollmentState
from leadflow.domain.nurture.inputs import FlowVersions
from tests.unit.nurture.conftest import MONDAY, Driver, days, flow_of

V1 = """
  - id: f
    trigger: {tag_added: x}
    {policy}
    steps:
      - {id: a, send_email: {template: t1}}
      - {id: w, wait: 2d}
      - {id: b, send_email: {template: t2}}
"""
V2 = """
  - id: f
    trigger: {tag_added: x}
    {policy}
    enabled: {enabled}
    steps:
      - {id: a, send_email: {template: t1}}
      - {id: {wait_id}, wait: 2d}
      - {id: c, send_email: {template: t3}}
"""


def _versions(policy: str = "", wait_id: str = "w", enabled: str = "true") -> tuple[Driver, FlowVersions]:
    v1 = flow_of(V1.replace("{policy}", policy))
    v2 = flow_of(V2.replace("{policy}", policy).replace("{wait_id}", wait_id).replace("{enabled}", enabled))
    driver = Driver(v1)
    driver.start(MONDAY)  # waiting at w on version 1
    return driver, FlowVersions(active=v2, active_version=2, pinned=v1)


def test_by_default_an_enrollment_moves_when_its_step_exists_in_the_new_version() -> None:
    driver, versions = _versions()
    assert driver.enrollment is not None
    result = advance(versions, driver.enrollment, driver.person, MONDAY + days(2))
    assert [effect.template for effect in result.effects if effect.kind == "send_email"] == ["t3"]  # type: ignore[union-attr]
    assert result.enrollment.flow_version == 2
    moved = [entry for entry in result.enrollment.path if entry.kind == "version"]
    assert moved
    assert "moved from version 1" in (moved[0].why or "")


def test_it_finishes_on_its_own_version_when_its_step_is_gone() -> None:
    driver, versions = _versions(wait_id="pause")
    assert driver.enrollment is not None
    result = advance(versions, driver.enrollment, driver.person, MONDAY + days(2))
    assert [effect.template for effect in result.effects if effect.kind == "send_email"] == ["t2"]  # type: ignore[union-attr]
    assert result.enrollment.flow_version == 1


def test_keep_version_finishes_on_the_old_version() -> None:
    driver, versions = _versions(policy="on_change: keep_version")
    assert driver.enrollment is not None
    result = advance(versions, driver.enrollment, driver.person, MONDAY + days(2))
    assert [effect.template for effect in result.effects if effect.kind == "send_email"] == ["t2"]  # type: ignore[union-attr]


def test_without_the_old_version_a_missing_step_ends_it_with_a_reason() -> None:
    driver, versions = _versions(wait_id="pause")
    assert driver.enrollment is not None
    unavailable = FlowVersions(active=versions.active, active_version=2, pinned=None)
    result = advance(unavailable, driver.enrollment, driver.person, MONDAY + days(2))
    assert (result.enrollment.state, result.enrollment.end_reason) == (EnrollmentState.EXITED, "step_removed")


def test_a_removed_flow_ends_its_enrollments_never_leaving_them_waiting() -> None:
    driver, _ = _versions()
    assert driver.enrollment is not None
    result = advance(
        FlowVersions(active=None, active_version=2), driver.enrollment, driver.person, MONDAY + days(1)
    )
    assert (result.enrollment.state, result.enrollment.end_reason, result.enrollment.due_at) == (
        EnrollmentState.EXITED,
        "flow_removed",
        None,
    )
    assert [effect.kind for effect in result.effects] == ["ended"]


def test_a_disabled_flow_pauses_and_resumes_where_it_was() -> None:
    driver, versions = _versions(enabled="false")
    assert driver.enrollment is not None
    paused = advance(versions, driver.enrollment, driver.person, MONDAY + days(2))
    assert paused.enrollment.state is EnrollmentState.PAUSED
    assert paused.effects == ()
    again = advance(versions, paused.enrollment, driver.person, MONDAY + days(3))
    assert not again.changed
    enabled = FlowVersions(
        active=flow_of(V2.replace("{policy}", "").replace("{wait_id}", "w").replace("{enabled}", "true")),
        active_version=3,
    )
    resumed = advance(enabled, paused.enrollment, driver.person, MONDAY + days(3))
    assert [effect.template for effect in resumed.effects if effect.kind == "send_email"] == ["t3"]  # type: ignore[union-attr]


def test_a_finished_enrollment_is_left_alone() -> None:
    driver, versions = _versions()
    driver.run_until(MONDAY + days(3))
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED
    result = advance(versions, driver.enrollment, driver.person, MONDAY + days(4))
    assert not result.changed
    assert result.effects == ()
