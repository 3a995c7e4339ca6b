"""Schedule expressions and durations, evaluated the way EventBridge does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadflow_local.schedule_expr import ScheduleError, parse_duration, parse_schedule

ANCHOR = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("3d", timedelta(days=3)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("P3D", timedelta(days=3)),
        ("PT2H30M", timedelta(hours=2, minutes=30)),
        ("90", timedelta(seconds=90)),
        (45, timedelta(seconds=45)),
    ],
)
def test_durations(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "3x", "3d and more", "P"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_duration(text)


class TestRate:
    def test_fires_every_period_counted_from_its_creation(self) -> None:
        schedule = parse_schedule("rate(5 minutes)", anchor=ANCHOR)
        assert schedule.next_after(ANCHOR) == ANCHOR + timedelta(minutes=5)
        assert schedule.next_after(ANCHOR + timedelta(minutes=7)) == ANCHOR + timedelta(minutes=10)
        assert schedule.next_after(ANCHOR + timedelta(minutes=10)) == ANCHOR + timedelta(minutes=15)

    @pytest.mark.parametrize("body", ["1 minute", "2 hours", "1 day"])
    def test_units(self, body: str) -> None:
        parse_schedule(f"rate({body})", anchor=ANCHOR)

    @pytest.mark.parametrize("body", ["0 minutes", "5 weeks", "minutes", "1.5 hours"])
    def test_bad_rates(self, body: str) -> None:
        with pytest.raises(ScheduleError):
            parse_schedule(f"rate({body})", anchor=ANCHOR)


class TestCron:
    def test_daily_at_noon_utc(self) -> None:
        schedule = parse_schedule("cron(0 12 * * ? *)", anchor=ANCHOR)
        assert schedule.next_after(ANCHOR) == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        assert schedule.next_after(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) == datetime(
            2026, 11, 25, 12, 0, tzinfo=UTC
        )

    def test_every_fifteen_minutes_on_weekdays(self) -> None:
        schedule = parse_schedule("cron(0/15 * ? * MON-FRI *)", anchor=ANCHOR)
        friday_night = datetime(2026, 11, 27, 23, 50, tzinfo=UTC)
        assert schedule.next_after(friday_night) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)

    def test_last_day_of_the_month(self) -> None:
        schedule = parse_schedule("cron(0 9 L * ? *)", anchor=ANCHOR)
        assert schedule.next_after(datetime(2027, 2, 1, tzinfo=UTC)) == datetime(
            2027, 2, 28, 9, 0, tzinfo=UTC
        )

    def test_nth_weekday_and_last_weekday_of_the_month(self) -> None:
        second_tuesday = parse_schedule("cron(0 8 ? * 3#2 *)", anchor=ANCHOR)
        assert second_tuesday.next_after(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(
            2026, 12, 8, 8, 0, tzinfo=UTC
        )
        last_friday = parse_schedule("cron(0 8 ? * 6L *)", anchor=ANCHOR)
        assert last_friday.next_after(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(
            2026, 12, 25, 8, 0, tzinfo=UTC
        )

    def test_nearest_weekday(self) -> None:
        # 15 August 2026 is a Saturday: the nearest weekday is Friday the 14th
        schedule = parse_schedule("cron(0 6 15W * ? *)", anchor=ANCHOR)
        assert schedule.next_after(datetime(2026, 8, 1, tzinfo=UTC)) == datetime(
            2026, 8, 14, 6, 0, tzinfo=UTC
        )

    def test_time_zone(self) -> None:
        schedule = parse_schedule("cron(0 9 * * ? *)", anchor=ANCHOR, timezone="Europe/Berlin")
        assert schedule.next_after(ANCHOR) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def test_year_field_ends_the_schedule(self) -> None:
        schedule = parse_schedule("cron(0 0 1 1 ? 2027)", anchor=ANCHOR)
        assert schedule.next_after(ANCHOR) == datetime(2027, 1, 1, tzinfo=UTC)
        assert schedule.next_after(datetime(2027, 1, 1, tzinfo=UTC)) is None

    @pytest.mark.parametrize(
        "body", ["0 12 * * *", "0 12 * * * *", "0 12 ? * ? *", "61 12 * * ? *", "0 12 * FOO ? *"]
    )
    def test_bad_cron_expressions(self, body: str) -> None:
        with pytest.raises(ScheduleError):
            parse_schedule(f"cron({body})", anchor=ANCHOR)


def test_at_fires_once() -> None:
    schedule = parse_schedule("at(2026-12-01T09:00:00)", anchor=ANCHOR)
    assert schedule.next_after(ANCHOR) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert schedule.next_after(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) is None


def test_unknown_expression() -> None:
    with pytest.raises(ScheduleError):
        parse_schedule("every(5 minutes)", anchor=ANCHOR)
