"""Date-field triggers (birthdays, renewals): the month-day index and the daily look-up window.

Pure and light (no definitions models), because the processor calls it for every activity that
changes fields. The index keeps one line per contact and date field that some flow's
``date_field`` trigger reads, keyed by the date's own month and day (``"03-05"``), whatever
the flows' ``days_before``: the daily job turns each start day it looks at into the month-days
whose anniversaries start that day.

The 29 February rule: a 29 February date is indexed under ``"02-29"``; in a common year its
anniversary is 28 February, so the look-up for 28 February also reads ``"02-29"``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

FEB_29 = "02-29"


def date_value(value: object) -> date | None:
    """A contact field's ``YYYY-MM-DD`` date (a longer ISO timestamp counts by its date), or None
    for anything else: an unparseable or impossible date gets no index line and no enrollment."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) < 10 or text[4] != "-" or text[7] != "-":
            return None  # only the extended form: "20240101" or "2024-W01" are not dates we index
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def month_day(day: date) -> str:
    return day.strftime("%m-%d")


def index_values(fields: Mapping[str, Any], names: Iterable[str]) -> dict[str, date | None]:
    """For each field name, the date to index (None: remove the line, the field holds no date)."""
    return {name: date_value(fields.get(name)) for name in names}


def month_days_starting(start_day: date, days_before: int) -> set[str]:
    """The month-days whose anniversary starts on ``start_day`` for a flow with ``days_before``:
    the day ``days_before`` later, and ``"02-29"`` too when that is 28 February of a common year."""
    anniversary = start_day + timedelta(days=days_before)
    days = {month_day(anniversary)}
    if (anniversary.month, anniversary.day) == (2, 28) and not calendar.isleap(anniversary.year):
        days.add(FEB_29)
    return days


LOOK_BACK = timedelta(days=1)
LOOK_AHEAD = timedelta(days=1, hours=2)


def window(now: datetime) -> tuple[datetime, datetime]:
    """The start moments one daily run enrolls: the day before it (a catch-up: a moment is seen by
    two runs, the second finds its trigger id already used, ``same_trigger``) and the day after it,
    plus two hours for a late next run. Future ones are stored due at their moment."""
    return now - LOOK_BACK, now + LOOK_AHEAD


def local_days(start: datetime, end: datetime) -> list[date]:
    """Every local date a moment in ``[start, end)`` can fall on in some zone (UTC-12 to UTC+14)."""
    first = (start - timedelta(hours=12)).date()
    last = (end + timedelta(hours=14)).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
