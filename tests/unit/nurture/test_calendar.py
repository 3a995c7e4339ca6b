"""Wall-clock arithmetic in the contact's zone: waits, until, quiet hours, and the DST rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadflow.definitions import QuietHours, Weekday
from leadflow.domain.nurture.calendar import after, at_wall, in_quiet_hours, next_until, quiet_until, zone_of

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_the_contact_zone_wins_and_a_bad_one_falls_back_to_the_bundle_default() -> None:
    assert zone_of("America/New_York", "Europe/Berlin") == NEW_YORK
    assert zone_of(None, "Europe/Berlin") == BERLIN
    assert zone_of("Mars/Olympus", "Europe/Berlin") == BERLIN
    assert zone_of("../../etc/passwd", "UTC") == ZoneInfo("UTC")
    assert zone_of(None, "Atlantis/Capital") == ZoneInfo("UTC")  # a stored default this Python lacks


def test_a_wall_time_in_the_spring_gap_happens_as_much_later_as_the_jump() -> None:
    # 29 March 2026, Berlin: 02:00 -> 03:00. 02:30 does not exist: it is 03:30 CEST (01:30 UTC)
    moment = at_wall(date(2026, 3, 29), time(2, 30), BERLIN)
    assert moment == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert moment.astimezone(BERLIN).strftime("%H:%M") == "03:30"


def test_a_wall_time_that_happens_twice_is_the_first() -> None:
    # 25 October 2026, Berlin: 03:00 -> 02:00. 02:30 happens at 00:30 UTC and at 01:30 UTC
    assert at_wall(date(2026, 10, 25), time(2, 30), BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_days_keep_the_wall_time_across_dst_and_hours_are_elapsed() -> None:
    start = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET, the day before spring forward
    assert after(start, timedelta(days=1), BERLIN).astimezone(BERLIN).strftime("%d %H:%M") == "29 09:00"
    assert after(start, timedelta(days=1), BERLIN) - start == timedelta(hours=23)
    assert after(start, timedelta(hours=23), BERLIN) - start == timedelta(hours=23)  # under a day: elapsed
    assert (
        after(start, timedelta(days=1, hours=2), BERLIN).astimezone(BERLIN).strftime("%d %H:%M") == "29 11:00"
    )


@pytest.mark.parametrize(
    ("now_local", "weekday", "clock", "expected_local"),
    [
        ("2026-03-02 10:00", Weekday.THU, time(22), "2026-03-05 22:00"),  # Monday -> Thursday
        ("2026-03-05 21:59", Weekday.THU, time(22), "2026-03-05 22:00"),  # still ahead today
        ("2026-03-05 22:00", Weekday.THU, time(22), "2026-03-12 22:00"),  # exactly now: next week
        ("2026-03-02 08:00", None, time(9), "2026-03-02 09:00"),  # no weekday: today if ahead
        ("2026-03-02 10:00", None, time(9), "2026-03-03 09:00"),  # ... else tomorrow
    ],
)
def test_until_is_the_next_such_moment(
    now_local: str, weekday: Weekday | None, clock: time, expected_local: str
) -> None:
    now = datetime.fromisoformat(now_local).replace(tzinfo=NEW_YORK).astimezone(UTC)
    found = next_until(now, weekday, clock, NEW_YORK)
    assert found.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M") == expected_local


def test_until_on_the_spring_forward_night_falls_after_the_gap() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Saturday
    found = next_until(now, Weekday.SUN, time(2, 30), BERLIN)
    assert found.astimezone(BERLIN).strftime("%a %H:%M") == "Sun 03:30"


QUIET = QuietHours(start=time(21), end=time(7, 30))


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (time(20, 59), False),
        (time(21), True),
        (time(23, 59), True),
        (time(0), True),
        (time(7, 29), True),
        (time(7, 30), False),
    ],
)
def test_quiet_hours_wrap_midnight_and_are_half_open(clock: time, quiet: bool) -> None:
    assert in_quiet_hours(clock, QUIET) is quiet


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(start=time(12), end=time(14))
    assert in_quiet_hours(time(13), lunch)
    assert not in_quiet_hours(time(14), lunch)
    assert not in_quiet_hours(time(11), lunch)


def test_quiet_until_is_the_window_end_in_the_contact_zone() -> None:
    evening = datetime(2026, 3, 2, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    assert quiet_until(evening, QUIET, BERLIN) == datetime(2026, 3, 3, 7, 30, tzinfo=BERLIN).astimezone(UTC)
    early = datetime(2026, 3, 3, 6, 0, tzinfo=BERLIN).astimezone(UTC)
    assert quiet_until(early, QUIET, BERLIN) == datetime(2026, 3, 3, 7, 30, tzinfo=BERLIN).astimezone(UTC)
    assert quiet_until(datetime(2026, 3, 3, 12, 0, tzinfo=BERLIN), QUIET, BERLIN) is None
    assert quiet_until(evening, None, BERLIN) is None


def test_quiet_hours_over_the_fall_back_night_end_at_the_wall_time() -> None:
    # The night of 25 October has 25 hours in Berlin; the window still ends at 07:30 local
    evening = datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    end = quiet_until(evening, QUIET, BERLIN)
    assert end is not None
    assert end.astimezone(BERLIN).strftime("%d %H:%M %Z") == "25 07:30 CET"
    assert end - evening == timedelta(hours=10, minutes=30)


def test_quiet_hours_ending_in_the_spring_gap_end_after_it() -> None:
    gap = QuietHours(start=time(22), end=time(2, 30))
    night = datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN).astimezone(UTC)
    end = quiet_until(night, gap, BERLIN)
    assert end is not None
    assert end.astimezone(BERLIN).strftime("%d %H:%M") == "29 03:30"
