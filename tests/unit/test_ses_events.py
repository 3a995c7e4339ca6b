"""SES event parsing and what each event decides (pure domain: no AWS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from leadflow.domain.contacts import SubscriptionStatus
from leadflow.domain.ses_events import IGNORED, EventType, SesBusEvent, activity_id_of, plan, status_after

EVENTS = Path(__file__).resolve().parents[2] / "events"


def bus_event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def parsed(name: str) -> SesBusEvent:
    return SesBusEvent.model_validate(bus_event(name))


def test_a_permanent_bounce_suppresses_as_bounced_with_the_flow_ids():
    decided = plan(parsed("ses-bounce-permanent").detail)
    (effect,) = decided.effects
    assert decided.contact_id == "ct_sample0001"
    assert effect.suppress_as == SubscriptionStatus.BOUNCED
    assert effect.activity_type == "email_bounced"
    assert effect.properties["bounce_type"] == "permanent"
    assert effect.properties["effect_id"] == "msg_sample0001"
    assert (effect.properties["flow_id"], effect.properties["step_id"]) == ("welcome", "day-0")
    assert effect.announce == "EmailBounced"


def test_a_transient_bounce_is_recorded_but_never_suppresses():
    (effect,) = plan(parsed("ses-bounce-transient").detail).effects
    assert effect.suppress_as is None
    assert effect.properties["permanent"] is False


def test_an_undetermined_bounce_never_suppresses():
    event = bus_event("ses-bounce-permanent")
    event["detail"]["bounce"]["bounceType"] = "Undetermined"
    (effect,) = plan(SesBusEvent.model_validate(event).detail).effects
    assert effect.suppress_as is None


def test_a_complaint_suppresses_as_complained_and_a_delivery_records_email_sent():
    (complaint,) = plan(parsed("ses-complaint").detail).effects
    assert complaint.suppress_as == SubscriptionStatus.COMPLAINED
    assert complaint.properties["feedback_type"] == "abuse"
    (delivery,) = plan(parsed("ses-delivery").detail).effects
    assert delivery.activity_type == "email_sent"
    assert delivery.suppress_as is None
    assert delivery.announce == "EmailDelivered"


def test_a_delivery_delay_is_ignored_with_its_reason():
    decided = plan(parsed("ses-delivery-delay").detail)
    assert decided.effects == []
    assert decided.ignored == IGNORED[EventType.DELIVERY_DELAY]


def test_every_event_type_is_either_acted_on_or_ignored_with_a_reason():
    acted = {EventType.BOUNCE, EventType.COMPLAINT, EventType.DELIVERY}
    assert set(IGNORED) | acted == set(EventType)
    assert not set(IGNORED) & acted


def test_the_recorded_activity_types_are_of_the_definitions_vocabulary():
    from leadflow.definitions.activities import EMAIL_ACTIVITIES
    from leadflow.domain import ses_events

    recorded = {ses_events.EMAIL_BOUNCED, ses_events.EMAIL_COMPLAINED, ses_events.EMAIL_SENT}
    assert recorded <= {str(kind) for kind in EMAIL_ACTIVITIES}


def test_headers_stand_in_for_missing_tags():
    event = bus_event("ses-bounce-permanent")
    event["detail"]["mail"]["tags"] = {}
    decided = plan(SesBusEvent.model_validate(event).detail)
    assert decided.contact_id == "ct_sample0001"
    assert decided.effects[0].properties["message_id"] == "msg_sample0001"
    assert "flow_id" not in decided.effects[0].properties  # no header carried it


def test_the_activity_id_is_stable_per_message_kind_and_recipient():
    first = activity_id_of("m1", EventType.BOUNCE, "Jane@Example.com")
    assert first == activity_id_of("m1", EventType.BOUNCE, " jane@example.com")
    assert first != activity_id_of("m1", EventType.COMPLAINT, "jane@example.com")
    assert first != activity_id_of("m2", EventType.BOUNCE, "jane@example.com")
    assert first != activity_id_of("m1", EventType.BOUNCE, "john@example.com")


def test_unknown_fields_from_ses_are_ignored_but_a_missing_object_is_refused():
    event = bus_event("ses-delivery")
    event["detail"]["somethingNew"] = {"x": 1}
    assert SesBusEvent.model_validate(event).detail.delivery is not None
    event["detail"].pop("delivery")
    with pytest.raises(ValidationError):
        SesBusEvent.model_validate(event)


@pytest.mark.parametrize(
    ("current", "wanted", "after"),
    [
        ("subscribed", "bounced", "bounced"),
        ("pending", "bounced", "bounced"),
        ("unsubscribed", "bounced", "bounced"),
        ("bounced", "bounced", None),
        ("complained", "bounced", None),
        ("unsubscribed", "complained", "complained"),
        ("bounced", "complained", "complained"),
        ("complained", "complained", None),
    ],
)
def test_suppression_precedence(current, wanted, after):
    result = status_after(SubscriptionStatus(current), SubscriptionStatus(wanted))
    assert result == (SubscriptionStatus(after) if after else None)


@given(
    st.sampled_from(list(SubscriptionStatus)),
    st.lists(st.sampled_from([SubscriptionStatus.BOUNCED, SubscriptionStatus.COMPLAINED]), max_size=6),
)
def test_suppressions_in_any_order_end_at_the_strongest_and_never_downgrade(start, suppressions):
    status = start
    for wanted in suppressions:
        status = status_after(status, wanted) or status
    if SubscriptionStatus.COMPLAINED in suppressions or start == SubscriptionStatus.COMPLAINED:
        assert status == SubscriptionStatus.COMPLAINED
    elif suppressions or start == SubscriptionStatus.BOUNCED:
        assert status == SubscriptionStatus.BOUNCED
    else:
        assert status == start


def test_oversized_input_is_bounded_or_refused():
    event = bus_event("ses-bounce-permanent")
    event["detail"]["mail"]["tags"]["leadflow_flow"] = ["f" * 5000]
    decided = plan(SesBusEvent.model_validate(event).detail)
    assert len(decided.effects[0].properties["flow_id"]) == 256
    crowd = [{"emailAddress": f"r{index}@example.com"} for index in range(51)]
    event["detail"]["bounce"]["bouncedRecipients"] = crowd
    with pytest.raises(ValidationError):
        SesBusEvent.model_validate(event)
    event = bus_event("ses-delivery")
    event["detail"]["mail"]["messageId"] = "m" * 257
    with pytest.raises(ValidationError):
        SesBusEvent.model_validate(event)
