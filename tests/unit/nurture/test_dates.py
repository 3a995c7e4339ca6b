"""The month-day index and the daily window: every day ``date_start`` starts, the index finds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from leadflow.definitions.triggers import DateField
from leadflow.domain.nurture import dates
from leadflow.domain.nurture.triggers import date_start


def test_28_february_of_a_common_year_also_reads_29_february() -> None:
    assert dates.month_days_starting(date(2027, 2, 28), 0) == {"02-28", "02-29"}
    assert dates.month_days_starting(date(2028, 2, 28), 0) == {"02-28"}
    assert dates.month_days_starting(date(2028, 2, 29), 0) == {"02-29"}
    # a week before: the start day is 21 February, the anniversary the 28th
    assert dates.month_days_starting(date(2027, 2, 21), 7) == {"02-28", "02-29"}


def test_days_before_reach_across_new_year() -> None:
    assert dates.month_days_starting(date(2026, 12, 29), 5) == {"01-03"}


def test_only_extended_iso_dates_are_dates() -> None:
    assert dates.date_value("1990-03-05") == date(1990, 3, 5)
    assert dates.date_value(" 1990-03-05T10:00:00Z ") == date(1990, 3, 5)
    for bad in ["20240101", "2024-02-30", "2024-W01-1", "05/03/1990", "", None, 19900305, ["1990-03-05"]]:
        assert dates.date_value(bad) is None


def test_the_window_looks_a_day_back_and_a_day_and_two_hours_ahead() -> None:
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    start, end = dates.window(now)
    assert (start, end) == (datetime(2026, 3, 3, 12, 0, tzinfo=UTC), datetime(2026, 3, 5, 14, 0, tzinfo=UTC))
    # 12:00 less UTC-12 is still the 3rd; 14:00 on the 5th in UTC+14 is the 6th
    assert dates.local_days(start, end) == [date(2026, 3, 3) + timedelta(days=n) for n in range(4)]


ZONES = st.sampled_from(["UTC", "Pacific/Auckland", "Pacific/Kiritimati", "America/New_York", "Etc/GMT+12"])


@given(
    value=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31)),
    days_before=st.integers(min_value=0, max_value=365),
    yearly=st.booleans(),
    zone=ZONES,
)
def test_every_start_day_is_found_through_the_index(
    value: date, day: date, days_before: int, yearly: bool, zone: str
) -> None:
    """If a flow starts on ``day`` for this date, the look-up of ``day`` reads its month-day."""
    spec = DateField(field="birthday", yearly=yearly, days_before=days_before)
    if date_start(spec, value.isoformat(), day, ZoneInfo(zone)) is not None:
        assert dates.month_day(value) in dates.month_days_starting(day, days_before)


@given(
    now=st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_every_moment_of_the_window_is_on_a_local_day_the_run_looks_at(now: datetime) -> None:
    start, end = dates.window(now)
    days = set(dates.local_days(start, end))
    for zone in ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"]:
        for moment in (start, end - timedelta(microseconds=1)):
            assert moment.astimezone(ZoneInfo(zone)).date() in days
