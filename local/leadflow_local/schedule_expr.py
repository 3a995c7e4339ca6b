"""EventBridge ``rate`` expressions, and durations such as ``3d`` for moving the stack's clock.

moto stores schedules but never fires them, so the stack computes each next firing itself on
its own clock. template.yaml schedules by ``rate()`` only; ``cron()`` and ``at()`` are refused at
start with that reason rather than half-emulated (AWS's six-field cron has ``?``, ``L``, ``W``
and ``#``: add it here, with its tests, when a schedule needs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


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


def parse_schedule(expression: str, *, anchor: datetime) -> Schedule:
    """The schedule an expression describes; a ``rate`` counts from ``anchor`` (its creation)."""
    text = expression.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return RateSchedule.parse(text[5:-1], anchor)
    if text.startswith(("cron(", "at(")):
        raise ScheduleError(
            f"{expression!r}: the local stack fires rate() schedules only (template.yaml uses no other)"
        )
    raise ScheduleError(f"{expression!r} is not rate(...), cron(...) or at(...)")


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
