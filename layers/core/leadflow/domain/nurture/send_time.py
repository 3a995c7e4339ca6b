"""Best send time: the hour of the week this contact engages with email, learned from past opens
and clicks, leaving out machine opens.

The rule, precisely:

1. Count the contact's human opens and clicks per hour of the week (0 = Monday 00:00-00:59 in the
   contact's zone, 167 = Sunday 23:00-23:59). An event is a machine's when its activity says
   ``machine_open: true`` (Apple Mail Privacy Protection and the like), or when it came less than
   ``MACHINE_WINDOW`` after the email was delivered (``delivered_at``): scanners, not readers.
2. Fewer than ``MIN_EVENTS`` human events: use the audience's best hour (an input), or none.
3. The peak is the hour with the most events (the earliest in the week on a tie). Its cluster is
   the peak plus the run of adjacent hours on either side (around the week's end too) that each have
   at least half the peak's count. The best time is the count-weighted mean of the cluster's hour
   starts, to the minute (Bronto's rule: the mean when opens cluster); 21:00 and 22:00 equally
   weighted give 21:30.
4. Quiet hours: a best time inside the window moves to its nearest edge: one hour before the
   window starts (so the hour is outside it), or the window's end; the end on a tie.
5. The send moment is the next time the wall clock shows the best time on its weekday; if that time
   was less than an hour ago (we are in the best hour), it is now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leadflow.definitions.activities import ActivityType
from leadflow.definitions.flows import QuietHours
from leadflow.domain.nurture.calendar import at_wall, in_quiet_hours, quiet_until

MIN_EVENTS = 5
MACHINE_WINDOW = timedelta(seconds=10)
HOURS_PER_WEEK = 168
MINUTES_PER_WEEK = HOURS_PER_WEEK * 60
_ENGAGEMENT = {ActivityType.EMAIL_OPEN.value, ActivityType.EMAIL_CLICK.value}


@dataclass(frozen=True, slots=True)
class Engagement:
    """One open or click, and whether a machine made it."""

    at: datetime
    machine: bool = False


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None
    return None


def is_machine(occurred_at: datetime, properties: dict[str, Any]) -> bool:
    """Rule 1: flagged by the tracker, or too soon after delivery for a person."""
    if properties.get("machine_open") is True:
        return True
    delivered = _parse_time(properties.get("delivered_at"))
    return delivered is not None and occurred_at - delivered < MACHINE_WINDOW


def engagements(activities: Iterable[Any]) -> list[Engagement]:
    """The opens and clicks among activities (anything with ``type``, ``occurred_at``, ``properties``)."""
    return [
        Engagement(activity.occurred_at, is_machine(activity.occurred_at, activity.properties))
        for activity in activities
        if activity.type in _ENGAGEMENT
    ]


def hour_of_week(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.weekday() * 24 + local.hour


def best_minute_of_week(events: Iterable[Engagement], zone: ZoneInfo) -> int | None:
    """Rules 1 to 3: the best minute of the week (0 = Monday 00:00), or None under ``MIN_EVENTS``."""
    counts = [0] * HOURS_PER_WEEK
    for event in events:
        if not event.machine:
            counts[hour_of_week(event.at, zone)] += 1
    if sum(counts) < MIN_EVENTS:
        return None
    peak = max(range(HOURS_PER_WEEK), key=lambda hour: (counts[hour], -hour))
    cluster = {0: counts[peak]}  # offset from the peak -> count
    for direction in (-1, 1):
        offset = direction
        while abs(offset) < HOURS_PER_WEEK // 2:
            count = counts[(peak + offset) % HOURS_PER_WEEK]
            if count * 2 < counts[peak] or count == 0:
                break
            cluster[offset] = count
            offset += direction
    total = sum(cluster.values())
    mean_offset_minutes = sum(offset * 60 * count for offset, count in cluster.items()) / total
    return round(peak * 60 + mean_offset_minutes) % MINUTES_PER_WEEK


def out_of_quiet_hours(minute_of_week: int, quiet: QuietHours | None) -> int:
    """Rule 4: a best time inside quiet hours moves to the nearest edge of the window."""
    if quiet is None:
        return minute_of_week
    minute_of_day = minute_of_week % 1440
    if not in_quiet_hours(time(minute_of_day // 60, minute_of_day % 60), quiet):
        return minute_of_week
    start = quiet.start.hour * 60 + quiet.start.minute
    end = quiet.end.hour * 60 + quiet.end.minute
    back = (minute_of_day - (start - 60)) % 1440
    forward = (end - minute_of_day) % 1440
    moved = minute_of_week - back if back < forward else minute_of_week + forward
    return moved % MINUTES_PER_WEEK


def next_at_minute_of_week(now: datetime, minute_of_week: int, zone: ZoneInfo) -> datetime:
    """Rule 5: the next time it is that minute of the week, or now within the hour after it."""
    weekday, minute_of_day = divmod(minute_of_week, 1440)
    clock = time(minute_of_day // 60, minute_of_day % 60)
    today = now.astimezone(zone).date()
    for offset in range(-1, 8):
        day = today + timedelta(days=offset)
        if day.weekday() != weekday:
            continue
        candidate = at_wall(day, clock, zone)
        if candidate <= now < candidate + timedelta(hours=1):
            return now
        if candidate > now:
            return candidate
    raise AssertionError("a weekday comes round within eight days")  # pragma: no cover


def best_send_time(
    now: datetime,
    events: Iterable[Engagement],
    zone: ZoneInfo,
    *,
    audience_best_hour: int | None = None,
    quiet: QuietHours | None = None,
) -> datetime:
    """When to send this contact an email: rules 1 to 5; with no history and no audience hour, now
    (or the end of quiet hours)."""
    minute = best_minute_of_week(events, zone)
    if minute is None and audience_best_hour is not None:
        minute = (audience_best_hour % HOURS_PER_WEEK) * 60
    if minute is None:
        return quiet_until(now, quiet, zone) or now
    moment = next_at_minute_of_week(now, out_of_quiet_hours(minute, quiet), zone)
    return quiet_until(moment, quiet, zone) or moment  # a window under an hour wide leaves no edge
