"""The one source of "now" for the whole core.

Everything that reads the time calls :func:`now`, so the local stack and tests can install a
clock that runs fast or jumps forward (a 3-day nurture wait in seconds) without touching
handler code. In Lambda the system clock is used.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class AdjustableClock:
    """A clock that can run faster than real time and be moved forward, never back.

    ``speed`` multiplies the passing of real time; :meth:`advance` jumps ahead.
    Thread-safe, because the local stack serves HTTP and polls queues on several threads.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._lock = threading.Lock()
        self._speed = speed
        self._real_anchor = datetime.now(UTC)
        self._virtual_anchor = start or self._real_anchor

    def now(self) -> datetime:
        with self._lock:
            elapsed = datetime.now(UTC) - self._real_anchor
            return self._virtual_anchor + elapsed * self._speed

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            real_now = datetime.now(UTC)
            virtual_now = self._virtual_anchor + (real_now - self._real_anchor) * self._speed
            self._real_anchor = real_now
            self._virtual_anchor = virtual_now + delta
            return self._virtual_anchor


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _current.now()


def install(clock: Clock) -> Clock:
    """Make ``clock`` the source of :func:`now`; returns the previous clock so callers can restore it."""
    global _current
    previous, _current = _current, clock
    return previous


def current() -> Clock:
    return _current


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the one timestamp format stored and returned."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time as aware UTC (no zone means UTC). Raises ValueError for anything else,
    including a time whose UTC equivalent falls outside years 1 to 9999 (``0001-01-01T00:00+01:00``),
    which Python reports as an OverflowError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC") from None
