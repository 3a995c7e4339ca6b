"""Domain events get ids from their cause, so a redelivered cause publishes the same ids."""

from __future__ import annotations

from leadflow.adapters.event_bus import events_of


def test_the_same_cause_gives_the_same_ids_and_each_event_its_own() -> None:
    happened = [("LeadScored", {"score": 10}), ("LeadScored", {"score": 20}), ("LeadQualified", {})]
    first = events_of("act_1", happened)
    assert [event.event_id for event in first] == [event.event_id for event in events_of("act_1", happened)]
    assert len({event.event_id for event in first}) == 3
    assert [(event.type, event.detail) for event in first] == happened


def test_another_cause_gives_other_ids() -> None:
    happened = [("LeadScored", {"score": 10})]
    assert events_of("act_1", happened)[0].event_id != events_of("act_2", happened)[0].event_id
