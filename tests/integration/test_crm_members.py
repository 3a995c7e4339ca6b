"""CRM membership changed from outside the processor: written at once, applied and announced once."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.errors import Conflict, NotFound, ValidationFailed
from leadflow.services import crm_members
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.forms import submitted_contact


def _bundle() -> dict[str, Any]:
    bundle = scoring_bundle()
    bundle["campaigns"].append(
        {
            "id": "crm-webinar",
            "kind": "crm",
            "name": "Webinar",
            "status": "active",
            "member_statuses": [
                {"name": "Invited", "default": True},
                {"name": "Registered", "responded": True},
                {"name": "Attended", "responded": True},
            ],
        }
    )
    bundle["campaigns"].append({"id": "crm-old", "kind": "crm", "name": "Old", "status": "completed"})
    return bundle


@pytest.fixture
def contact_id(aws, apply_bundle, capture) -> str:
    apply_bundle(_bundle())
    contact = submitted_contact(capture, {"email": "mo@example.com", "consent": True})
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    return contact


def _settle(aws) -> list[dict[str, Any]]:
    tap = aws.tap
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    return [event for event in queues.read_all(tap) if event["detail-type"].startswith("CrmCampaignMember")]


@pytest.fixture
def aws_tapped(aws):
    aws.tap = queues.bus_tap(aws.buses["EventBus"])
    return aws


def test_an_admin_add_is_written_at_once_and_announced_once(aws_tapped, contact_id):
    result = crm_members.change_membership("crm-webinar", contact_id, None, source="manual", mode="set")
    assert result.created
    assert result.membership.status == "Invited"
    stored = campaigns_store.get_membership("crm-webinar", contact_id)
    assert stored is not None
    assert (stored.status, stored.source) == ("Invited", "manual")
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert contact.crm["crm-webinar"] == "Invited"
    events = _settle(aws_tapped)
    assert [(e["detail-type"], e["detail"]["status"], e["detail"]["source"]) for e in events] == [
        ("CrmCampaignMemberAdded", "Invited", "manual")
    ]
    # a redelivery of the activity announces nothing new: the processor applied it once
    assert _settle(aws_tapped) == []


def test_a_status_change_records_the_first_response_and_keeps_history(aws_tapped, contact_id):
    crm_members.change_membership("crm-webinar", contact_id, "Invited", source="import", mode="forward")
    registered = crm_members.change_membership(
        "crm-webinar", contact_id, "Registered", source="manual", mode="set"
    )
    attended = crm_members.change_membership(
        "crm-webinar", contact_id, "Attended", source="manual", mode="set"
    )
    assert registered.change is not None
    assert registered.change.first_response
    assert attended.change is not None
    assert not attended.change.first_response
    stored = campaigns_store.get_membership("crm-webinar", contact_id)
    assert stored is not None
    assert stored.source == "import"  # who added the member is kept
    assert stored.responded
    assert stored.responded_at == registered.change.at
    history = campaigns_store.membership_history_of(contact_id, "crm-webinar")
    assert [(row.get("from"), row.get("to")) for row in history] == [
        (None, "Invited"),
        ("Invited", "Registered"),
        ("Registered", "Attended"),
    ]
    events = _settle(aws_tapped)
    assert [(e["detail-type"], e["detail"].get("first_response")) for e in events] == [
        ("CrmCampaignMemberAdded", None),
        ("CrmCampaignMemberStatusChanged", True),
        ("CrmCampaignMemberStatusChanged", False),
    ]


def test_forward_writers_do_not_move_a_status_back(contact_id):
    crm_members.change_membership("crm-webinar", contact_id, "Attended", source="manual", mode="set")
    result = crm_members.change_membership(
        "crm-webinar", contact_id, "Invited", source="import", mode="forward"
    )
    assert result.change is None
    assert result.membership.status == "Attended"


def test_a_replayed_change_id_changes_nothing(aws_tapped, contact_id):
    first = crm_members.change_membership(
        "crm-webinar", contact_id, "Registered", source="import", mode="forward", change_id="imp_1:7"
    )
    crm_members.change_membership("crm-webinar", contact_id, "Invited", source="manual", mode="set")
    replay = crm_members.change_membership(
        "crm-webinar", contact_id, "Registered", source="import", mode="set", change_id="imp_1:7"
    )
    assert first.change is not None
    assert replay.change is None
    assert replay.membership.status == "Invited"
    assert len(_settle(aws_tapped)) == 2


def test_refusals_name_their_reason(contact_id):
    with pytest.raises(ValidationFailed) as unknown:
        crm_members.change_membership("crm-webinar", contact_id, "Won", source="manual", mode="set")
    assert "status" in unknown.value.fields
    with pytest.raises(Conflict, match="MA campaign"):
        crm_members.change_membership("webinar-q3", contact_id, None, source="manual", mode="set")
    with pytest.raises(Conflict, match="completed"):
        crm_members.change_membership("crm-old", contact_id, None, source="manual", mode="set")
    with pytest.raises(NotFound):
        crm_members.change_membership("crm-none", contact_id, None, source="manual", mode="set")
    with pytest.raises(NotFound):
        crm_members.change_membership("crm-webinar", "ct_missing", None, source="manual", mode="set")


def test_a_removal_keeps_the_history_and_is_announced(aws_tapped, contact_id):
    crm_members.change_membership("crm-webinar", contact_id, "Registered", source="manual", mode="set")
    crm_members.remove_membership("crm-webinar", contact_id)
    assert campaigns_store.get_membership("crm-webinar", contact_id) is None
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert "crm-webinar" not in contact.crm
    assert [row.get("to") for row in campaigns_store.membership_history_of(contact_id, "crm-webinar")] == [
        "Registered",
        None,
    ]
    events = _settle(aws_tapped)
    assert [e["detail-type"] for e in events] == ["CrmCampaignMemberAdded", "CrmCampaignMemberRemoved"]
    assert events[1]["detail"]["previous_status"] == "Registered"
    with pytest.raises(NotFound):
        crm_members.remove_membership("crm-webinar", contact_id)


def test_members_page_through_the_shards_by_status(contact_id, capture, aws):
    others = [submitted_contact(capture, {"email": f"p{n}@example.com", "consent": True}) for n in range(5)]
    for index, other in enumerate([contact_id, *others]):
        status = "Registered" if index % 2 else "Invited"
        crm_members.change_membership("crm-webinar", other, status, source="manual", mode="set")
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = campaigns_store.campaign_members("crm-webinar", cursor=cursor, limit=2)
        seen += [m.contact_id for m in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted([contact_id, *others])
    registered, _ = campaigns_store.campaign_members("crm-webinar", status="Registered", limit=50)
    assert len(registered) == 3
    with pytest.raises(ValueError, match="cursor"):
        campaigns_store.campaign_members("crm-webinar", cursor="eyJzaGFyZCI6IDk5fQ==")
