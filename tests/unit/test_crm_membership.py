"""What one requested status does to a CRM membership: forward-only for rules, any for an admin."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.definitions.campaigns import Campaign
from leadflow.domain import crm_membership
from leadflow.domain.crm_membership import (
    CampaignClosed,
    MemberSnapshot,
    NotACrmCampaign,
    UnknownStatus,
    decide,
)

AT = "2026-12-01T10:00:00Z"
LATER = "2026-12-02T10:00:00Z"
STATUSES = ["Invited", "Registered", "Attended", "No-show"]


def webinar(status: str = "active") -> Campaign:
    return Campaign.model_validate(
        {
            "id": "crm-webinar",
            "kind": "crm",
            "name": "Webinar",
            "status": status,
            "member_statuses": [
                {"name": "Invited", "default": True},
                {"name": "Registered", "responded": True},
                {"name": "Attended", "responded": True},
                {"name": "No-show"},
            ],
        }
    )


def member(status: str, **extra: object) -> MemberSnapshot:
    return MemberSnapshot(
        campaign_id="crm-webinar", contact_id="c1", status=status, source="import", joined_at=AT, **extra
    )


def test_a_new_member_gets_the_default_status_and_the_add_is_announced():
    change = decide(webinar(), "c1", None, None, mode="forward", source="rule", at=AT)
    assert change is not None
    assert (change.status, change.previous_status, change.kind, change.responded) == (
        "Invited",
        None,
        "added",
        False,
    )
    assert crm_membership.member_event(change) == (
        "CrmCampaignMemberAdded",
        {
            "contact_id": "c1",
            "campaign_id": "crm-webinar",
            "status": "Invited",
            "responded": False,
            "source": "rule",
            "at": AT,
        },
    )


def test_a_responded_status_sets_the_first_response_once():
    first = decide(webinar(), "c1", member("Invited"), "Registered", mode="forward", source="rule", at=AT)
    assert first is not None
    assert first.first_response
    assert first.responded_at == AT
    after = crm_membership.snapshot_after(first)
    second = decide(webinar(), "c1", after, "Attended", mode="forward", source="rule", at=LATER)
    assert second is not None
    assert second.responded
    assert not second.first_response
    assert second.responded_at == AT
    kind, detail = crm_membership.member_event(second)
    assert kind == "CrmCampaignMemberStatusChanged"
    assert detail["previous_status"] == "Registered"
    assert detail["first_response"] is False


def test_the_profile_view_knows_a_past_response_without_its_time():
    known = member("No-show", has_responded=True)
    change = decide(webinar(), "c1", known, "Attended", mode="set", source="manual", at=LATER)
    assert change is not None
    assert not change.first_response


def test_forward_writers_never_move_a_status_back_or_repeat_it():
    campaign = webinar()
    assert (
        decide(campaign, "c1", member("Attended"), "Registered", mode="forward", source="rule", at=AT) is None
    )
    assert (
        decide(campaign, "c1", member("Attended"), "Attended", mode="forward", source="rule", at=AT) is None
    )
    assert decide(campaign, "c1", member("Attended"), None, mode="forward", source="rule", at=AT) is None


def test_an_admin_may_set_any_defined_status_and_keeps_who_added_the_member():
    change = decide(webinar(), "c1", member("Attended"), "Invited", mode="set", source="manual", at=LATER)
    assert change is not None
    assert (change.status, change.previous_status, change.added_by, change.joined_at) == (
        "Invited",
        "Attended",
        "import",
        AT,
    )
    assert not change.responded


def test_an_unknown_status_names_the_statuses_there_are():
    with pytest.raises(UnknownStatus, match="Invited, Registered, Attended, No-show"):
        decide(webinar(), "c1", None, "Won", mode="set", source="manual", at=AT)


@pytest.mark.parametrize("status", ["completed", "aborted"])
def test_a_closed_campaign_takes_no_new_members_but_members_still_move(status: str):
    with pytest.raises(CampaignClosed):
        decide(webinar(status), "c1", None, "Invited", mode="set", source="manual", at=AT)
    moved = decide(webinar(status), "c1", member("Invited"), "Attended", mode="set", source="manual", at=AT)
    assert moved is not None
    assert moved.status == "Attended"


def test_an_ma_campaign_is_never_joined_by_an_add():
    ma = Campaign.model_validate({"id": "webinar-q3", "kind": "ma", "name": "Webinar Q3"})
    with pytest.raises(NotACrmCampaign):
        decide(ma, "c1", None, None, mode="set", source="manual", at=AT)


@given(st.lists(st.sampled_from([*STATUSES, None]), max_size=12))
def test_forward_changes_end_on_the_furthest_status_whatever_their_order(requests: list[str | None]):
    campaign = webinar()
    forward = sorted(requests, key=lambda s: STATUSES.index(s) if s else 0)
    finals = []
    for order in (requests, list(reversed(requests)), forward):
        current: MemberSnapshot | None = None
        for status in order:
            change = decide(campaign, "c1", current, status, mode="forward", source="rule", at=AT)
            if change is not None:
                current = crm_membership.snapshot_after(change)
        finals.append(current.status if current else None)
    expected = max((STATUSES.index(s or "Invited") for s in requests), default=None)
    assert finals == [None if expected is None else STATUSES[expected]] * 3


def test_a_recorded_change_is_announced_as_it_was_made():
    change = decide(webinar(), "c1", member("Invited"), "Registered", mode="set", source="crm", at=AT)
    assert change is not None
    recorded = crm_membership.change_from_activity(
        "c1", crm_membership.change_activity_properties(change), AT
    )
    assert recorded is not None
    assert crm_membership.member_event(recorded) == crm_membership.member_event(change)
