"""exit_when before every step, unreachable contacts, double opt-in, quiet hours (DST too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from leadflow.domain.nurture.engine import advance
from leadflow.domain.nurture.enrollment import EnrollmentState, Hold
from leadflow.domain.nurture.inputs import NurtureSettings, Wake
from tests.unit.nurture.conftest import MONDAY, Driver, activity, contact, days, flow_of

BERLIN = ZoneInfo("Europe/Berlin")

TWO_EMAILS = """
  - id: f
    trigger: {tag_added: x}
    exit_when: {has_tag: customer}
    steps:
      - {id: a, send_email: {template: t1}}
      - {id: w, wait: 1d}
      - {id: b, send_email: {template: t2}}
"""


def test_exit_when_is_checked_before_every_step() -> None:
    driver = Driver(flow_of(TWO_EMAILS))
    driver.start(MONDAY)
    driver.person = contact(tags={"customer"})
    driver.run_until(MONDAY + days(2))
    assert driver.sent() == ["t1"]
    assert driver.enrollment is not None
    assert (driver.enrollment.state, driver.enrollment.end_reason) == (EnrollmentState.EXITED, "goal_reached")
    assert driver.enrollment.path[-1].why == 'exit_when {"has_tag":"customer"} held'


def test_exit_when_already_true_at_the_start_sends_nothing() -> None:
    driver = Driver(flow_of(TWO_EMAILS), contact(tags={"customer"}))
    driver.start(MONDAY)
    assert driver.kinds() == ["ended"]


def test_an_activity_goal_ends_the_enrollment_when_it_arrives() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    exit_when: {activity: custom, name: purchase}
    steps:
      - {id: w, wait: 3d}
      - {id: a, send_email: {template: t1}}
"""
    )
    driver = Driver(flow)
    driver.start(MONDAY)
    assert not driver.step(MONDAY + days(1), activity("custom", MONDAY + days(1), name="wishlist")).changed
    driver.step(MONDAY + days(2), activity("custom", MONDAY + days(2), name="purchase"))
    assert driver.enrollment is not None
    assert driver.enrollment.end_reason == "goal_reached"
    assert driver.sent() == []


def test_unreachable_and_erased_contacts_end_with_the_reason() -> None:
    for status in ("unsubscribed", "bounced", "complained"):
        driver = Driver(flow_of(TWO_EMAILS))
        driver.start(MONDAY)
        driver.person = contact(status=status)
        driver.run_until(MONDAY + days(2))
        assert driver.sent() == ["t1"]
        assert driver.enrollment is not None
        assert driver.enrollment.end_reason == f"contact_{status}"
    driver = Driver(flow_of(TWO_EMAILS))
    waiting = driver.start(MONDAY)
    result = advance(driver.versions(), waiting, None, MONDAY + days(1))
    assert (result.enrollment.state, result.enrollment.end_reason) == (
        EnrollmentState.EXITED,
        "contact_erased",
    )
    assert [effect.kind for effect in result.effects] == ["ended"]


def test_a_contact_pending_double_opt_in_is_held_then_gets_the_email_once_confirmed() -> None:
    driver = Driver(flow_of(TWO_EMAILS), contact(status="pending"))
    held = driver.start(MONDAY)
    assert (held.hold, held.due_at, driver.effects) == (Hold.CONSENT, MONDAY + days(1), [])
    driver.person = contact(status="subscribed")
    driver.step(MONDAY + days(1))
    assert driver.sent() == ["t1"]


def test_a_contact_who_never_confirms_leaves_after_the_give_up_time() -> None:
    driver = Driver(flow_of(TWO_EMAILS), contact(status="pending"), NurtureSettings(consent_give_up=days(3)))
    driver.start(MONDAY)
    driver.run_until(MONDAY + days(5))
    assert driver.sent() == []
    assert driver.enrollment is not None
    assert driver.enrollment.end_reason == "never_confirmed"


QUIET = """
  - id: f
    trigger: {tag_added: x}
    quiet_hours: {start: "21:00", end: "07:30"}
    steps:
      - {id: a, send_email: {template: t1}}
      - {id: s, sales_task: {channel: phone}}
"""


def test_quiet_hours_hold_the_email_until_the_window_ends_in_the_contact_zone() -> None:
    evening = datetime(2026, 3, 2, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    driver = Driver(flow_of(QUIET), contact(fields={"time_zone": "Europe/Berlin"}))
    held = driver.start(evening)
    assert (held.hold, held.step_id, driver.effects) == (Hold.QUIET_HOURS, "a", [])
    assert held.due_at == datetime(2026, 3, 3, 7, 30, tzinfo=BERLIN).astimezone(UTC)
    driver.step(held.due_at)
    assert driver.kinds() == ["send_email", "sales_task", "ended"]
    assert driver.effects[0].send_at == held.due_at  # type: ignore[union-attr]
    assert driver.enrollment is not None
    assert driver.enrollment.visits["a"] == 1


def test_quiet_hours_use_the_bundle_default_zone_without_a_contact_zone() -> None:
    utc_evening = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 21:30 in Berlin, 20:30 in UTC
    berlin = Driver(flow_of(QUIET), contact(), NurtureSettings(default_time_zone="Europe/Berlin"))
    berlin.start(utc_evening)
    assert berlin.effects == []
    utc = Driver(flow_of(QUIET), contact())
    utc.start(utc_evening)
    assert utc.sent() == ["t1"]


def test_quiet_hours_across_the_fall_back_night() -> None:
    evening = datetime(2026, 10, 24, 23, 0, tzinfo=BERLIN).astimezone(UTC)
    driver = Driver(flow_of(QUIET), contact(fields={"time_zone": "Europe/Berlin"}))
    held = driver.start(evening)
    assert held.due_at is not None
    assert held.due_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-10-25 07:30 CET"
    assert held.due_at - evening == timedelta(hours=9, minutes=30)  # the night has 25 hours


def test_a_wake_for_an_enrollment_that_waits_for_time_changes_nothing() -> None:
    driver = Driver(flow_of(TWO_EMAILS))
    waiting = driver.start(MONDAY)
    result = advance(
        driver.versions(), waiting, driver.person, MONDAY + days(1) / 2, Wake(activity("page_view", MONDAY))
    )
    assert not result.changed
    assert result.enrollment == waiting
