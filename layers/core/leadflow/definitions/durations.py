"""Durations (``30m``, ``2d``) and clock times (``"20:00"``) as marketers write them.

Both parse to standard library values (``timedelta``, ``time``) so engines do arithmetic, and
serialise back to the short text form so a stored bundle reads like the one that was applied.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, ValidationInfo, WithJsonSchema

from leadflow.definitions.base import applying

_UNITS: dict[str, timedelta] = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*w)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$"
)
MAX_DURATION = timedelta(days=3660)
"""Ten years: anything longer is a typo, and would overflow schedules."""


def parse_duration(value: Any) -> timedelta:
    """``"90d"`` -> ``timedelta(days=90)``; units w, d, h, m, s, combinable in that order (``"1d12h"``)."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match or not any(match.groups()):
            raise ValueError(
                f'"{value}" is not a duration: write a number and a unit, such as 30s, 30m, 1h, 2d, 2w'
            )
        duration = sum(
            (
                int(amount) * unit
                for amount, unit in zip(match.groups(), _UNITS.values(), strict=True)
                if amount
            ),
            timedelta(),
        )
    else:
        raise ValueError(f"{value!r} is not a duration: write a number and a unit, such as 30m or 2d")
    if duration <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    if duration > MAX_DURATION:
        raise ValueError("a duration can be at most 3660d (ten years)")
    if duration.microseconds:
        raise ValueError("a duration is counted in whole seconds")
    return duration


def format_duration(duration: timedelta) -> str:
    """The inverse of ``parse_duration``: ``timedelta(days=1, hours=12)`` -> ``"1d12h"``."""
    seconds = int(duration.total_seconds())
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        step = int(_UNITS[unit].total_seconds())
        amount, seconds = divmod(seconds, step)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$", "examples": ["2d"]}
    ),
    Field(description="a duration such as 30s, 30m, 1h, 2d, 2w, or combined in that order, such as 1d12h"),
]


def parse_clock_time(value: Any) -> time:
    """``"20:00"`` -> ``time(20, 0)``: a wall-clock time, 24-hour, minutes precision."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = re.match(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$", value)
        if match:
            return time(int(match[1]), int(match[2]))
    raise ValueError(
        f'{value!r} is not a time of day: write 24-hour "HH:MM" in quotes, such as "08:00" or "22:00"'
    )


ClockTime = Annotated[
    time,
    BeforeValidator(parse_clock_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^([01]?\d|2[0-3]):[0-5]\d$", "examples": ["08:00"]}),
    Field(description='a 24-hour time of day, "HH:MM"'),
]


class Weekday(StrEnum):
    """A day of the week; ``number`` matches ``date.weekday()`` (Monday is 0)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)

    @classmethod
    def _missing_(cls, value: object) -> Weekday | None:
        """Accept ``Thursday`` or ``THU`` as well as ``thu``."""
        if isinstance(value, str):
            short = value.strip().lower()[:3]
            if value.strip().lower() in {
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            }:
                return cls(short)
            if short == value.strip().lower():
                return next((day for day in cls if day.value == short), None)
        return None


def check_time_zone(value: str, info: ValidationInfo) -> str:
    """An IANA time zone name that this Python knows, such as ``Europe/Berlin`` or ``UTC``.

    Whether the zone is known is checked when applying only: a stored bundle must keep loading
    even if a later tz database dropped a name (the engine then falls back to UTC)."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$", value):
        raise ValueError(f'"{value}" is not a time zone: write an IANA name such as "Europe/Berlin"')
    if not applying(info):
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'unknown time zone "{value}": write an IANA name such as "Europe/Berlin"') from None
    return value


TimeZoneName = Annotated[
    str,
    AfterValidator(check_time_zone),
    Field(max_length=64, description='an IANA time zone such as "Europe/Berlin" or "UTC"'),
]
