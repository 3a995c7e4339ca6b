"""EventBridge schedule expressions (``rate``, ``cron``, ``at``) and durations such as ``3d``.

moto stores schedules but never fires them, so the stack computes each next firing itself on
its own clock. The cron dialect is AWS's six fields (minutes hours day-of-month month
day-of-week year, with ``?``, ``L``, ``W`` and ``#``), not Unix cron's five.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ScheduleError(ValueError):
    """An expression EventBridge would refuse, or one the local stack cannot evaluate."""


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after ``moment`` (aware UTC), or None when there is none."""
        ...


_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str | float) -> timedelta:
    """``3d``, ``1h30m``, ``90s``, ``P3D``/``PT2H`` or a number of seconds."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        value = text.strip()
        iso = _ISO_DURATION.match(value.upper())
        if value.replace(".", "", 1).isdigit():
            seconds = float(value)
        elif iso and value.upper() not in ("P", "PT"):
            parts = {key: float(number) for key, number in iso.groupdict().items() if number}
            seconds = sum(parts.get(key, 0) * _DURATION_SECONDS[key] for key in ("w", "d", "h", "m", "s"))
        else:
            matches = list(_DURATION_PART.finditer(value))
            if not matches or "".join(match.group(0) for match in matches).replace(" ", "") != value.replace(
                " ", ""
            ):
                raise ScheduleError(f"{text!r} is not a duration (try 30s, 15m, 2h, 3d or 1d12h)")
            seconds = sum(
                float(match.group(1)) * _DURATION_SECONDS[match.group(2).lower()] for match in matches
            )
    if seconds < 0:
        raise ScheduleError("a duration cannot be negative")
    return timedelta(seconds=seconds)


def parse_schedule(expression: str, *, anchor: datetime, timezone: str = "UTC") -> Schedule:
    """The schedule an expression describes; a ``rate`` counts from ``anchor`` (its creation)."""
    text = expression.strip()
    zone = _zone(timezone)
    if text.startswith("rate(") and text.endswith(")"):
        return RateSchedule.parse(text[5:-1], anchor)
    if text.startswith("cron(") and text.endswith(")"):
        return CronSchedule.parse(text[5:-1], zone)
    if text.startswith("at(") and text.endswith(")"):
        try:
            moment = datetime.fromisoformat(text[3:-1]).replace(tzinfo=zone)
        except ValueError as error:
            raise ScheduleError(f"{expression!r}: at() wants yyyy-mm-ddThh:mm:ss") from error
        return AtSchedule(moment.astimezone(UTC))
    raise ScheduleError(f"{expression!r} is not rate(...), cron(...) or at(...)")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(f"unknown time zone {name!r}") from error


@dataclass(frozen=True)
class RateSchedule:
    """``rate(5 minutes)``: every period, counted from the anchor."""

    period: timedelta
    anchor: datetime

    @classmethod
    def parse(cls, body: str, anchor: datetime) -> RateSchedule:
        parts = body.split()
        if len(parts) != 2 or not parts[0].isdigit() or parts[1].lower() not in _UNITS:
            raise ScheduleError(f"rate({body}) wants 'N minute(s)', 'N hour(s)' or 'N day(s)'")
        value = int(parts[0])
        if value < 1:
            raise ScheduleError(f"rate({body}): the value must be at least 1")
        return cls(timedelta(seconds=value * _UNITS[parts[1].lower()]), anchor)

    def next_after(self, moment: datetime) -> datetime | None:
        if moment < self.anchor:
            return self.anchor + self.period
        periods = int((moment - self.anchor) / self.period) + 1
        return self.anchor + self.period * periods


@dataclass(frozen=True)
class AtSchedule:
    """``at(2026-12-01T09:00:00)``: once."""

    moment: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        return self.moment if self.moment > moment else None


_MONTHS = {name.upper(): index for index, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
DayMatcher = Callable[[date], bool]


def _aws_weekday(day: date) -> int:
    """AWS numbers days 1 (Sunday) to 7 (Saturday)."""
    return (day.isoweekday() % 7) + 1


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """A cron field of numbers, names, ranges, lists and steps, as the set of values it allows."""
    result: set[int] = set()

    def number(token: str) -> int:
        token = token.upper()
        if names and token in names:
            return names[token]
        if not token.isdigit():
            raise ScheduleError(f"{token!r} is not a value in cron field {field!r}")
        value = int(token)
        if not low <= value <= high:
            raise ScheduleError(f"{value} is outside {low}-{high} in cron field {field!r}")
        return value

    for item in field.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError(f"bad step in cron field {field!r}")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = number(first), number(last)
        else:
            start = number(base)
            end = high if step_text else start
        if start <= end:
            result.update(range(start, end + 1, step))
        else:  # a wrapping range such as FRI-MON
            span = list(range(start, high + 1)) + list(range(low, end + 1))
            result.update(span[::step])
    return result


def _day_of_month(field: str) -> DayMatcher | None:
    if field == "?":
        return None
    if field == "L":
        return lambda day: day.day == calendar.monthrange(day.year, day.month)[1]
    if field == "LW":
        return lambda day: day == _last_weekday(day.year, day.month)
    if field.endswith("W") and field[:-1].isdigit():
        target = int(field[:-1])
        return lambda day: day == _nearest_weekday(day.year, day.month, target)
    allowed = _values(field, 1, 31)
    return lambda day: day.day in allowed


def _day_of_week(field: str) -> DayMatcher | None:
    if field == "?":
        return None
    upper = field.upper()
    if "#" in upper:
        weekday_text, _, nth_text = upper.partition("#")
        weekday = _values(weekday_text, 1, 7, _WEEKDAYS).pop()
        nth = int(nth_text)
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    if upper.endswith("L") and upper != "L":
        weekday = _values(upper[:-1], 1, 7, _WEEKDAYS).pop()
        return lambda day: (
            _aws_weekday(day) == weekday and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        )
    allowed = _values("7" if upper == "L" else upper, 1, 7, _WEEKDAYS)
    return lambda day: _aws_weekday(day) in allowed


def _last_weekday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _nearest_weekday(year: int, month: int, target: int) -> date:
    last = calendar.monthrange(year, month)[1]
    day = date(year, month, min(target, last))
    if day.weekday() == 5:  # Saturday: Friday before, unless that leaves the month
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    if day.weekday() == 6:  # Sunday: Monday after, unless that leaves the month
        return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)
    return day


@dataclass(frozen=True)
class CronSchedule:
    """``cron(0 12 * * ? *)``: AWS's six-field cron in a time zone."""

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: DayMatcher | None
    day_of_week: DayMatcher | None
    zone: ZoneInfo

    @classmethod
    def parse(cls, body: str, zone: ZoneInfo) -> CronSchedule:
        fields = body.split()
        if len(fields) != 6:
            raise ScheduleError(
                f"cron({body}) needs six fields: minutes hours day-of-month month day-of-week year"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleError(f"cron({body}): exactly one of day-of-month and day-of-week must be '?'")
        return cls(
            minutes=frozenset(_values(minute, 0, 59)),
            hours=frozenset(_values(hour, 0, 23)),
            months=frozenset(_values(month, 1, 12, _MONTHS)),
            years=frozenset(_values(year, 1970, 2199)),
            day_of_month=_day_of_month(dom),
            day_of_week=_day_of_week(dow),
            zone=zone,
        )

    def _day_matches(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        matcher = self.day_of_month or self.day_of_week
        return matcher is not None and matcher(day)

    def next_after(self, moment: datetime) -> datetime | None:
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = local.date()
        first_time = local.time()
        last_year = min(max(self.years), day.year + 10)  # an impossible date (30 FEB) ends the search
        while day.year <= last_year:
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        if time(hour, minute) >= first_time:
                            candidate = datetime.combine(day, time(hour, minute), tzinfo=self.zone)
                            return candidate.astimezone(UTC)
            day += timedelta(days=1)
            first_time = time(0, 0)
        return None
