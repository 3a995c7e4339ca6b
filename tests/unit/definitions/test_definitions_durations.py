"""Durations and clock times: the text marketers write, and the values engines compute with."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from leadflow.definitions import ClockTime, Duration, Weekday, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("3d", timedelta(days=3)),
        ("90d", timedelta(days=90)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_parses_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2x", "d2", "-1d", "0d", "1.5h", "30m1h", "3661d", 5, None, [1]])
def test_rejects_what_is_not_a_positive_duration(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [(timedelta(days=90), "90d"), (timedelta(days=1, hours=12), "1d12h"), (timedelta(minutes=30), "30m")],
)
def test_formats_durations_back_to_text(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(format_duration(value)) == value


def test_duration_type_validates_and_serialises() -> None:
    adapter = TypeAdapter(Duration)
    assert adapter.validate_python("2w") == timedelta(days=14)
    assert adapter.dump_python(timedelta(days=14), mode="json") == "14d"
    with pytest.raises(ValidationError, match="not a duration"):
        adapter.validate_python("soon")


def test_clock_time_is_24_hour_hh_mm() -> None:
    adapter = TypeAdapter(ClockTime)
    assert adapter.validate_python("08:00") == time(8, 0)
    assert adapter.validate_python("22:30") == time(22, 30)
    assert adapter.dump_python(time(7, 5), mode="json") == "07:05"
    for bad in ("24:00", "8pm", "12:60", 1200):
        with pytest.raises(ValidationError, match="time of day"):
            adapter.validate_python(bad)


def test_weekday_accepts_short_and_long_names() -> None:
    assert Weekday("thu") is Weekday.THU
    assert Weekday("Thursday") is Weekday.THU
    assert Weekday("MON").number == 0
    with pytest.raises(ValueError, match="not a valid Weekday"):
        Weekday("th")
