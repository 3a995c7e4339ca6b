"""Best send time: the most engaged hour of the week, without machine opens, with the fallback,
the cluster mean and the quiet-hours edge."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadflow.definitions import QuietHours
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.send_time import (
    MIN_EVENTS,
    Engagement,
    best_minute_of_week,
    best_send_time,
    engagements,
    is_machine,
    next_at_minute_of_week,
    out_of_quiet_hours,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
THU = 3 * 1440


def _at(week: int, weekday: int, hour: int, minute: int = 5, zone: ZoneInfo = UTC_ZONE) -> datetime:
    """A moment in the week starting Monday 2 February 2026 plus ``week`` weeks."""
    day = datetime(2026, 2, 2, hour, minute, tzinfo=zone) + timedelta(days=7 * week + weekday)
    return day.astimezone(UTC)


def _events(*hours: tuple[int, int], weeks: int = 1) -> list[Engagement]:
    return [Engagement(_at(week, weekday, hour)) for week in range(weeks) for weekday, hour in hours]


def test_the_thursday_night_reader_gets_thursday_night() -> None:
    events = [Engagement(_at(week, 3, 22, zone=BERLIN)) for week in range(6)]
    events += [Engagement(_at(0, 0, 9, zone=BERLIN))]  # one Monday morning open does not outvote them
    assert best_minute_of_week(events, BERLIN) == THU + 22 * 60
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    sent = best_send_time(monday, events, BERLIN)
    assert sent.astimezone(BERLIN).strftime("%a %H:%M") == "Thu 22:00"


def test_machine_opens_are_left_out() -> None:
    delivered = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert is_machine(delivered + timedelta(seconds=3), {"delivered_at": "2026-03-02T06:00:00Z"})
    assert not is_machine(delivered + timedelta(minutes=5), {"delivered_at": "2026-03-02T06:00:00Z"})
    assert is_machine(delivered, {"machine_open": True})
    assert not is_machine(delivered, {"delivered_at": "not a time"})
    machine = [Engagement(_at(week, 0, 6), machine=True) for week in range(10)]  # MPP at 06:00 every Monday
    human = [Engagement(_at(week, 3, 22)) for week in range(5)]
    assert best_minute_of_week(machine + human, UTC_ZONE) == THU + 22 * 60


def test_engagements_come_from_opens_and_clicks_only() -> None:
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    activities = [
        Activity(activity_id="a1", type="email_open", occurred_at=at, properties={"machine_open": True}),
        Activity(activity_id="a2", type="email_click", occurred_at=at),
        Activity(activity_id="a3", type="page_view", occurred_at=at),
    ]
    assert engagements(activities) == [Engagement(at, machine=True), Engagement(at, machine=False)]


def test_fewer_than_five_human_events_fall_back_to_the_audience_hour() -> None:
    few = [Engagement(_at(week, 3, 22)) for week in range(MIN_EVENTS - 1)]
    assert best_minute_of_week(few, UTC_ZONE) is None
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    sent = best_send_time(monday, few, UTC_ZONE, audience_best_hour=1 * 24 + 10)  # Tuesday 10:00
    assert sent == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert best_send_time(monday, few, UTC_ZONE) == monday  # no audience hour either: now


def test_adjacent_hours_that_cluster_give_their_mean() -> None:
    # Thursday 21:xx and 22:xx, three opens each: the mean of 21:00 and 22:00 is 21:30
    assert best_minute_of_week(_events((3, 21), (3, 22), weeks=3), UTC_ZONE) == THU + 21 * 60 + 30
    # weighted: 4 at 21, 2 at 22 (half the peak: in the cluster) -> 21:20
    events = _events((3, 21), weeks=4) + _events((3, 22), weeks=2)
    assert best_minute_of_week(events, UTC_ZONE) == THU + 21 * 60 + 20
    # a neighbour under half the peak stays out: 5 at 21, 2 at 22 -> 21:00
    events = _events((3, 21), weeks=5) + _events((3, 22), weeks=2)
    assert best_minute_of_week(events, UTC_ZONE) == THU + 21 * 60


def test_a_cluster_around_the_end_of_the_week_wraps() -> None:
    # Sunday 23:xx and Monday 00:xx, equally: the mean is Sunday 23:30
    events = _events((6, 23), (0, 0), weeks=3)
    assert best_minute_of_week(events, UTC_ZONE) == 6 * 1440 + 23 * 60 + 30


def test_a_tie_between_separate_hours_takes_the_earliest_in_the_week() -> None:
    events = _events((1, 9), (4, 18), weeks=3)
    assert best_minute_of_week(events, UTC_ZONE) == 1 * 1440 + 9 * 60


def test_a_best_time_in_quiet_hours_moves_to_the_nearest_edge() -> None:
    quiet = QuietHours(start=time(21), end=time(7, 30))
    # 22:00 is an hour after the start: back to 20:00 (two hours) is nearer than on to 07:30 (9.5)
    assert out_of_quiet_hours(THU + 22 * 60, quiet) == THU + 20 * 60
    # 06:00 is 1.5 hours before the end: forward to 07:30
    assert out_of_quiet_hours(THU + 6 * 60, quiet) == THU + 7 * 60 + 30
    # Monday 00:30: back crosses into Sunday 20:00 (4.5 h) vs forward 07:00 (7 h): Sunday evening
    assert out_of_quiet_hours(30, quiet) == 6 * 1440 + 20 * 60
    # outside the window: unchanged
    assert out_of_quiet_hours(THU + 12 * 60, quiet) == THU + 12 * 60


def test_quiet_hours_apply_to_the_best_send_time() -> None:
    quiet = QuietHours(start=time(21), end=time(7, 30))
    events = [Engagement(_at(week, 3, 22, zone=BERLIN)) for week in range(6)]
    sent = best_send_time(datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN), events, BERLIN, quiet=quiet)
    assert sent.astimezone(BERLIN).strftime("%a %H:%M") == "Thu 20:00"


def test_in_the_best_hour_already_means_now() -> None:
    thursday_2215 = datetime(2026, 3, 5, 22, 15, tzinfo=UTC)
    assert next_at_minute_of_week(thursday_2215, THU + 22 * 60, UTC_ZONE) == thursday_2215
    thursday_2300 = datetime(2026, 3, 5, 23, 0, tzinfo=UTC)
    assert next_at_minute_of_week(thursday_2300, THU + 22 * 60, UTC_ZONE) == datetime(
        2026, 3, 12, 22, 0, tzinfo=UTC
    )
    # a best hour of 23:30 still holds at 00:10 the next day
    friday_0010 = datetime(2026, 3, 6, 0, 10, tzinfo=UTC)
    assert next_at_minute_of_week(friday_0010, THU + 23 * 60 + 30, UTC_ZONE) == friday_0010
