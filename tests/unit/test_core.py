"""Small core pieces: the adjustable clock, ids, and contact status rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadflow import clock
from leadflow.domain.contacts import SubscriptionStatus, initial_status, merge_fields, status_after_submission
from leadflow.ids import new_id, shard_of, stable_id


def test_adjustable_clock_moves_forward_only_and_runs_faster():
    fast = clock.AdjustableClock(speed=1000)
    before = fast.now()
    jumped = fast.advance(timedelta(days=3))
    assert jumped - before >= timedelta(days=3)
    with pytest.raises(ValueError, match="forward"):
        fast.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="positive"):
        clock.AdjustableClock(speed=0)


def test_installed_clock_is_what_now_returns():
    fixed = clock.AdjustableClock(speed=1e-9)
    fixed.advance(timedelta(days=400))
    previous = clock.install(fixed)
    try:
        assert clock.now() - previous.now() > timedelta(days=399)
    finally:
        clock.install(previous)


def test_iso_round_trips_to_the_millisecond():
    moment = clock.parse_iso("2026-11-24T12:00:00.123Z")
    assert clock.iso(moment) == "2026-11-24T12:00:00.123Z"
    assert clock.parse_iso("2026-11-24T12:00:00") == clock.parse_iso("2026-11-24T12:00:00Z")


def test_ids_sort_by_time_and_stable_ids_repeat():
    first, second = new_id("c"), new_id("c")
    assert first.startswith("c_")
    assert first != second
    assert stable_id("a", "x", "y") == stable_id("a", "x", "y") != stable_id("a", "x", "z")
    assert {shard_of(f"c{index}", 16) for index in range(500)} == set(range(16))


@pytest.mark.parametrize(
    ("double_opt_in", "consent", "expected"),
    [
        (True, True, "pending"),
        (False, True, "subscribed"),
        (False, None, "subscribed"),
        (False, False, "unsubscribed"),
    ],
)
def test_initial_status(double_opt_in, consent, expected):
    assert initial_status(double_opt_in=double_opt_in, consent_given=consent) == expected


def test_returning_status_never_downgrades_and_fresh_consent_resubscribes():
    unsubscribed = SubscriptionStatus.UNSUBSCRIBED
    assert status_after_submission(unsubscribed, double_opt_in=False, consent_given=True) == "subscribed"
    assert status_after_submission(unsubscribed, double_opt_in=True, consent_given=True) == "pending"
    assert (
        status_after_submission(SubscriptionStatus.SUBSCRIBED, double_opt_in=False, consent_given=False)
        == "subscribed"
    )
    assert (
        status_after_submission(SubscriptionStatus.BOUNCED, double_opt_in=False, consent_given=True)
        == "bounced"
    )


def test_empty_values_never_erase():
    assert merge_fields({"a": "x", "b": "", "c": None, "d": 0, "e": False}) == {"a": "x", "d": 0}
