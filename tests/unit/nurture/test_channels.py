"""Channel recommendation: engagement / messages over six months, and the stated preference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadflow.definitions import Condition
from leadflow.definitions.conditions import Channel
from leadflow.domain.activities import Activity
from leadflow.domain.conditions import holds
from leadflow.domain.nurture.channels import WINDOW, ChannelView, Touch, channel_view, touches
from leadflow.domain.state import ContactState

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _activity(type_: str, days_ago: float, activity_id: str, **properties: object) -> Activity:
    return Activity(
        activity_id=activity_id, type=type_, occurred_at=NOW - timedelta(days=days_ago), properties=properties
    )


def _email_ignorer_who_answers_calls() -> list[Activity]:
    sent = [_activity("email_sent", n, f"s{n}", effect_id=f"m{n}") for n in range(1, 21)]
    opened = [
        _activity("email_open", 1, "o1", effect_id="m1"),
        _activity("email_open", 1, "o1b", effect_id="m1"),
    ]
    calls = [
        _activity("custom", n, f"c{n}", name="call_logged", connected=n != 3) for n in (2, 3, 4)
    ]  # answered 2 of 3
    return sent + opened + calls


def test_rates_count_distinct_messages_per_channel() -> None:
    view = channel_view(touches(_email_ignorer_who_answers_calls()), {}, NOW)
    assert view.rate("email") == pytest.approx(1 / 20)  # two opens of one email count once
    assert view.rate("phone") == pytest.approx(2 / 3)
    assert view.recommended == "phone"


def test_machine_opens_and_old_messages_do_not_count() -> None:
    found = touches(
        [
            _activity("email_sent", 10, "s1", effect_id="m1"),
            _activity("email_open", 10, "o1", effect_id="m1", machine_open=True),
            _activity("email_sent", WINDOW.days + 5, "s0", effect_id="m0"),
            _activity("email_click", WINDOW.days + 5, "k0", effect_id="m0"),
        ]
    )
    view = channel_view(found, {}, NOW)
    assert view.received == {Channel.EMAIL: 1}
    assert view.rate("email") == 0.0


def test_a_stated_preference_wins_and_too_little_data_means_email() -> None:
    found = touches(_email_ignorer_who_answers_calls())
    assert channel_view(found, {"preferred_channel": " Email "}, NOW).recommended == "email"
    assert channel_view(found, {"preferred_channel": "carrier pigeon"}, NOW).recommended == "phone"
    assert ChannelView().recommended == "email"
    assert ChannelView().rate("email") is None
    two_calls = [Touch(Channel.PHONE, NOW, f"c{n}", engaged) for n in range(2) for engaged in (False, True)]
    assert channel_view(two_calls, {}, NOW).recommended == "email"  # under three messages: not measured


def test_channel_conditions() -> None:
    view = channel_view(touches(_email_ignorer_who_answers_calls()), {}, NOW)
    state = ContactState(contact_id="c_1")
    assert holds(Condition(recommended_channel=Channel.PHONE), state, channels=view)
    assert not holds(Condition(recommended_channel=Channel.EMAIL), state, channels=view)
    low_email = Condition.model_validate({"channel_engagement": {"email": {"below": 0.05}}})
    assert not holds(low_email, state, channels=view)  # exactly 0.05 is not below 0.05
    assert holds(
        Condition.model_validate({"channel_engagement": {"email": {"below": 0.06}}}), state, channels=view
    )
    assert holds(
        Condition.model_validate({"channel_engagement": {"phone": {"at_least": 0.5, "below": 0.7}}}),
        state,
        channels=view,
    )
    # a channel with no messages matches neither bound; without channel facts nothing matches
    assert not holds(low_email, state, channels=ChannelView())
    assert not holds(Condition(recommended_channel=Channel.EMAIL), state)
    assert holds(Condition(), state)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({"email": {}}, "give below, at_least or both"),
        ({"email": {"below": 0.1, "at_least": 0.2}}, "below must be greater than at_least"),
        ({"email": {"below": 1.5}}, "less than or equal to 1"),
        ({"fax": {"below": 0.1}}, "'email' or 'phone'"),
    ],
)
def test_channel_engagement_bounds_are_checked(written: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Condition.model_validate({"channel_engagement": written})
