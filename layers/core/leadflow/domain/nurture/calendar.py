"""Wall-clock arithmetic in a contact's time zone: waits, ``until`` times and quiet hours.

The DST rule, everywhere: a wall time that does not exist (clocks jump forward) happens as much
later as the jump (02:30 on a spring-forward night in Berlin is 03:30); a wall time that happens
twice (clocks fall back) is the first of the two. The whole days of a duration (each 24 hours:
``2d``, ``1w``, ``48h`` alike) are calendar days that keep the wall time; the rest is elapsed time,
so ``wait: 1d`` at 09:00 ends at 09:00 the next day even when that day is 23 or 25 hours long.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow.definitions.durations import Weekday
from leadflow.definitions.flows import QuietHours


def zone_of(contact_zone: str | None, default_zone: str) -> ZoneInfo:
    """The contact's IANA zone when it is a real one, else the bundle's default zone, else UTC."""
    for name in (contact_zone, default_zone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def at_wall(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC moment the wall clock in ``zone`` shows ``clock`` on ``day`` (DST rule above)."""
    return datetime.combine(day, clock.replace(fold=0), tzinfo=zone).astimezone(UTC)


def after(moment: datetime, duration: timedelta, zone: ZoneInfo) -> datetime:
    """``moment`` plus ``duration``: the days on the calendar (same wall time), the rest elapsed."""
    local = moment.astimezone(zone)
    days = timedelta(days=duration.days)
    rest = duration - days
    moved = at_wall(local.date() + days, local.time(), zone) if days else moment
    return (moved + rest).astimezone(UTC)


def next_until(moment: datetime, weekday: Weekday | None, clock: time, zone: ZoneInfo) -> datetime:
    """The first moment after ``moment`` when it is ``clock`` (on ``weekday``, if given) in ``zone``:
    today if that time is still ahead, else the next matching day."""
    local_day = moment.astimezone(zone).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if weekday is not None and day.weekday() != weekday.number:
            continue
        candidate = at_wall(day, clock, zone)
        if candidate > moment:
            return candidate
    raise AssertionError("a weekday comes round within eight days")  # pragma: no cover


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def in_quiet_hours(local_clock: time, quiet: QuietHours) -> bool:
    """Whether a wall time lies in the window ``[start, end)``, which may wrap midnight."""
    now, start, end = _minutes(local_clock), _minutes(quiet.start), _minutes(quiet.end)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def quiet_until(moment: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """When the quiet window that holds ``moment`` ends (its ``end`` wall time), or None outside it."""
    if quiet is None:
        return None
    local = moment.astimezone(zone)
    if not in_quiet_hours(local.time(), quiet):
        return None
    day = local.date()
    if _minutes(local.time()) >= _minutes(quiet.end):  # in the evening part of a window that wraps
        day += timedelta(days=1)
    end = at_wall(day, quiet.end, zone)
    return end if end > moment else moment  # a DST jump can swallow the end: the window is over
