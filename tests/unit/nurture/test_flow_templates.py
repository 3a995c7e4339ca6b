"""The ready-made flows of examples/flow-templates/, end to end on the controlled clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadflow.definitions import Bundle, DateFieldTrigger, parse_bundle
from leadflow.definitions.conditions import Channel
from leadflow.domain.nurture.channels import ChannelView
from leadflow.domain.nurture.effects import CreateSalesTask
from leadflow.domain.nurture.engine import Refusal, enroll
from leadflow.domain.nurture.enrollment import Enrollment, EnrollmentState
from leadflow.domain.nurture.inputs import NurtureSettings
from tests.unit.nurture.conftest import EXAMPLES, MONDAY, Driver, activity, contact, days

BERLIN = ZoneInfo("Europe/Berlin")


def _bundle(name: str) -> Bundle:
    return parse_bundle((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))


def _driver(name: str, **person: object) -> Driver:
    bundle = _bundle(name)
    return Driver(
        bundle.flows[0],
        contact(**person),
        NurtureSettings(
            default_time_zone=bundle.default_time_zone, scoring=bundle.scoring, audience_best_hour=33
        ),
    )


def test_welcome_series_clicker_gets_two_emails() -> None:
    driver = _driver("welcome-series")
    driver.start(MONDAY)
    assert driver.sent() == ["welcome-1"]
    driver.run_until(MONDAY + days(9))  # 3 days to Thursday, then the audience's best hour (Tuesday 09:00)
    assert driver.sent() == ["welcome-1", "welcome-2"]
    second = driver.effects[-1]
    assert second.send_at == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # type: ignore[union-attr]
    click = activity("email_click", second.send_at + timedelta(hours=2), effect_id=second.effect_id)  # type: ignore[union-attr]
    driver.run_until(MONDAY + days(30), [click])
    assert driver.sent() == ["welcome-1", "welcome-2"]
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED


def test_welcome_series_silent_reader_gets_the_last_try_outside_quiet_hours() -> None:
    driver = _driver("welcome-series")
    evening = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    driver.start(evening)
    assert driver.effects == []  # quiet hours (UTC, the bundle's default): held until 07:30
    driver.run_until(evening + days(30))
    assert driver.sent() == ["welcome-1", "welcome-2", "welcome-3"]
    assert driver.effects[0].send_at == datetime(2026, 3, 3, 7, 30, tzinfo=UTC)  # type: ignore[union-attr]


def test_event_invitation_attended_goes_to_thanks_and_the_warm_get_a_call() -> None:
    driver = _driver("event-invitation", score=500)
    driver.start(MONDAY, activity("form_submit", MONDAY, "a_form", form_id="event-registration"))
    driver.run_until(MONDAY + days(7))
    assert driver.sent() == ["event-confirmation", "event-reminder"]
    reminder = driver.effects[-1]
    assert reminder.send_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # type: ignore[union-attr]
    attended = activity("crm_status_changed", MONDAY + days(10), campaign_id="crm-event", status="Attended")
    driver.run_until(MONDAY + days(20), [attended])
    assert driver.sent() == ["event-confirmation", "event-reminder", "event-thanks"]
    assert [effect.kind for effect in driver.effects][-3:] == ["add_to_list", "sales_task", "ended"]


def test_event_invitation_missed_gets_the_recording_and_the_no_show_status() -> None:
    driver = _driver("event-invitation")
    driver.start(MONDAY, activity("form_submit", MONDAY, "a_form", form_id="event-registration"))
    driver.run_until(MONDAY + days(30))
    assert driver.sent() == ["event-confirmation", "event-reminder", "event-recording"]
    no_show = driver.effects[-2]
    assert (no_show.kind, no_show.status) == ("add_to_crm_campaign", "No-show")  # type: ignore[union-attr]


def _abandoned(driver: Driver, cart_id: str = "A") -> None:
    trigger = activity(
        "custom", MONDAY, "a_cart", name="cart_abandoned", cart_id=cart_id, items=[{"name": "Lamp"}]
    )
    driver.start(MONDAY, trigger)


def test_abandoned_cart_bought_within_the_hour_gets_nothing() -> None:
    driver = _driver("abandoned-cart")
    _abandoned(driver)
    bought = activity("custom", MONDAY + timedelta(minutes=20), name="purchase", cart_id="A")
    driver.run_until(MONDAY + days(5), [bought])
    assert driver.kinds() == ["ended"]


def test_abandoned_cart_another_cart_bought_does_not_stop_the_reminders() -> None:
    driver = _driver("abandoned-cart")
    _abandoned(driver)
    other = activity("custom", MONDAY + timedelta(minutes=20), name="purchase", cart_id="B")
    driver.run_until(MONDAY + days(12), [other])  # the last call waits for the best hour, a week on
    assert driver.sent() == ["cart-reminder", "cart-last-call"]
    assert driver.effects[0].trigger["items"] == [{"name": "Lamp"}]  # type: ignore[union-attr]
    assert driver.enrollment is not None
    assert driver.enrollment.path[-1].step_id == "lost"


def test_abandoned_cart_bought_after_the_reminder_is_thanked() -> None:
    driver = _driver("abandoned-cart")
    _abandoned(driver)
    bought = activity("custom", MONDAY + timedelta(hours=5), name="purchase", cart_id="A")
    driver.run_until(MONDAY + days(5), [bought])
    assert driver.sent() == ["cart-reminder"]
    update = driver.effects[1]
    assert (update.kind, update.add_tags) == ("update_contact", ["customer"])  # type: ignore[union-attr]
    # the reminder went an hour after the cart was left: 11:00 UTC, 12:00 in Berlin (the default zone)
    assert driver.effects[0].send_at.astimezone(BERLIN).strftime("%H:%M") == "12:00"  # type: ignore[union-attr]


def test_birthday_is_indexed_by_month_and_day_and_comes_round_every_year() -> None:
    bundle = _bundle("birthday")
    trigger = bundle.flows[0].trigger
    assert isinstance(trigger, DateFieldTrigger)
    assert trigger.date_field.index_key(date(1990, 3, 5)) == "03-05"
    assert trigger.date_field.index_key(date(1992, 2, 29)) == "02-28"
    assert trigger.date_field.start_day(date(1992, 2, 29), 2028) == date(2028, 2, 29)
    early = trigger.date_field.model_copy(update={"days_before": 3})
    assert early.index_key(date(1990, 3, 2)) == "02-27"
    flow = bundle.flows[0]
    first = enroll(flow, 1, "c_1", activity("custom", MONDAY, "a_bday_2026"), MONDAY, None)
    assert isinstance(first, Enrollment)
    driver = Driver(flow, contact())
    driver.enrollment = first
    driver.step(MONDAY)
    assert driver.sent() == ["birthday"]
    next_year = MONDAY + days(365)
    again = enroll(flow, 1, "c_1", activity("custom", next_year, "a_bday_2027"), next_year, driver.enrollment)
    assert isinstance(again, Enrollment)
    assert again.entry == 2
    assert enroll(
        flow, 1, "c_1", activity("custom", MONDAY, "a_bday_2026"), next_year, driver.enrollment
    ) == Refusal("same_trigger")


@pytest.mark.parametrize(
    ("channels", "task_channel"),
    [
        (ChannelView(received={Channel.EMAIL: 20, Channel.PHONE: 4}, engaged={Channel.PHONE: 3}), "phone"),
        (ChannelView(), "email"),
    ],
)
def test_customer_education_the_silent_customer_is_reached_on_their_channel(
    channels: ChannelView, task_channel: str
) -> None:
    driver = _driver("customer-education", channels=channels)
    driver.start(MONDAY)
    driver.run_until(MONDAY + days(40))
    assert driver.sent() == ["lesson-1", "lesson-2", "lesson-3"]
    tasks = [effect for effect in driver.effects if isinstance(effect, CreateSalesTask)]
    assert [task.channel for task in tasks] == [task_channel]
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED


def test_customer_education_a_clicker_skips_the_help() -> None:
    driver = _driver("customer-education")
    driver.start(MONDAY)
    driver.run_until(MONDAY + days(9))
    lesson_2 = driver.effects[-1]
    assert lesson_2.template == "lesson-2"  # type: ignore[union-attr]
    click = activity("email_click", lesson_2.send_at + timedelta(hours=1), effect_id=lesson_2.effect_id)  # type: ignore[union-attr]
    driver.run_until(MONDAY + days(40), [click])
    assert [effect.kind for effect in driver.effects].count("sales_task") == 0
    assert driver.sent() == ["lesson-1", "lesson-2", "lesson-3"]
