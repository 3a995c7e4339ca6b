"""Rate expressions and durations, evaluated the way EventBridge does; cron and at are refused."""

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

    @pytest.mark.parametrize(
        ("body", "period"),
        [
            ("1 minute", timedelta(minutes=1)),
            ("2 hours", timedelta(hours=2)),
            ("1 day", timedelta(days=1)),
            ("30 Minutes", timedelta(minutes=30)),
        ],
    )
    def test_units(self, body: str, period: timedelta) -> None:
        schedule = parse_schedule(f"rate({body})", anchor=ANCHOR)
        assert schedule.next_after(ANCHOR) == ANCHOR + period
        assert schedule.next_after(ANCHOR + period) == ANCHOR + 2 * period

    def test_before_its_creation_it_first_fires_one_period_after(self) -> None:
        schedule = parse_schedule("rate(1 hour)", anchor=ANCHOR)
        assert schedule.next_after(ANCHOR - timedelta(days=3)) == ANCHOR + timedelta(hours=1)

    @pytest.mark.parametrize("body", ["0 minutes", "5 weeks", "minutes", "1.5 hours"])
    def test_bad_rates(self, body: str) -> None:
        with pytest.raises(ScheduleError):
            parse_schedule(f"rate({body})", anchor=ANCHOR)


@pytest.mark.parametrize("expression", ["cron(0 12 * * ? *)", "at(2026-12-01T09:00:00)"])
def test_cron_and_at_are_refused_with_the_reason(expression: str) -> None:
    with pytest.raises(ScheduleError, match="rate\\(\\) schedules only"):
        parse_schedule(expression, anchor=ANCHOR)


def test_unknown_expression() -> None:
    with pytest.raises(ScheduleError, match="is not rate"):
        parse_schedule("every(5 minutes)", anchor=ANCHOR)
