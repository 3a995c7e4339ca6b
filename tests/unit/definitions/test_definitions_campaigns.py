"""Campaigns: MA/CRM fields, statuses, dates, and the links between campaigns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from leadflow.definitions import CampaignStatus, parse_bundle


def test_crm_campaign_parses_every_field(doc: dict[str, Any]) -> None:
    doc["campaigns"][1].update(
        type="Webinar",
        status="active",
        parent="crm-events",
        start_date="2026-07-01",
        end_date="2026-09-30",
        budgeted_cost=5000,
        actual_cost=4200.5,
        expected_revenue=60000,
        custom_fields={"region": "EMEA", "tier": 2},
    )
    campaign = parse_bundle(doc).campaign("crm-webinar")
    assert campaign is not None
    assert campaign.type == "Webinar"
    assert campaign.status is CampaignStatus.ACTIVE
    assert campaign.parent == "crm-events"
    assert (campaign.start_date, campaign.end_date) == (date(2026, 7, 1), date(2026, 9, 30))
    assert campaign.actual_cost == Decimal("4200.5")
    assert campaign.custom_fields == {"region": "EMEA", "tier": 2}


def test_crm_only_fields_on_an_ma_campaign_are_errors_at_each_key(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["campaigns"][0].update(budgeted_cost=10, member_statuses=[{"name": "Sent"}], status="active")
    assert problems(doc) == [
        "campaigns[0].status: status is for CRM campaigns (kind: crm), not MA campaigns",
        "campaigns[0].budgeted_cost: budgeted_cost is for CRM campaigns (kind: crm), not MA campaigns",
        "campaigns[0].member_statuses: member_statuses is for CRM campaigns (kind: crm), not MA campaigns",
    ]


def test_connected_campaign_on_a_crm_campaign_is_an_error(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["campaigns"][2]["connected_crm_campaign"] = "crm-webinar"
    assert problems(doc) == [
        "campaigns[2].connected_crm_campaign: connected_crm_campaign is for MA campaigns (kind: ma), "
        "not CRM campaigns"
    ]


def test_end_date_before_start_date(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["campaigns"][1].update(start_date="2026-07-01", end_date="2026-06-30")
    assert problems(doc) == ["campaigns[1].end_date: end_date 2026-06-30 is before start_date 2026-07-01"]


def test_member_status_names_unique_and_one_default(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["campaigns"][1]["member_statuses"] = [{"name": "Sent"}, {"name": "sent"}]
    doc["campaigns"][2]["member_statuses"] = [{"name": "A", "default": True}, {"name": "B", "default": True}]
    assert problems(doc) == [
        'campaigns[1].member_statuses: member status "sent" is listed twice',
        "campaigns[2].member_statuses: only one member status can be the default, not A, B",
    ]


def test_negative_costs_are_rejected(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["campaigns"][1]["budgeted_cost"] = -1
    assert problems(doc) == ["campaigns[1].budgeted_cost: should be greater than or equal to 0 (got -1)"]


def test_connected_crm_campaign_must_exist_and_be_crm(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["campaigns"].append({"id": "other", "kind": "ma", "name": "Other", "connected_crm_campaign": "nope"})
    doc["campaigns"].append({"id": "third", "kind": "ma", "name": "Third", "connected_crm_campaign": "other"})
    assert problems(doc) == [
        'campaigns[3].connected_crm_campaign: unknown campaign "nope"',
        'campaigns[4].connected_crm_campaign: "other" is an MA campaign; this needs a CRM campaign',
    ]


def test_one_ma_campaign_per_crm_campaign(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["campaigns"].append(
        {"id": "copy", "kind": "ma", "name": "Copy", "connected_crm_campaign": "crm-webinar"}
    )
    assert problems(doc) == [
        'campaigns[3].connected_crm_campaign: "crm-webinar" is already connected to MA campaign "webinar"; '
        "a CRM campaign mirrors at most one MA campaign"
    ]


def test_parent_must_exist_and_be_crm(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["campaigns"][1]["parent"] = "webinar"
    doc["campaigns"][2]["parent"] = "nope"
    assert problems(doc) == [
        'campaigns[1].parent: "webinar" is an MA campaign; this needs a CRM campaign',
        'campaigns[2].parent: unknown campaign "nope"',
    ]


def test_parent_cycles_are_reported_once(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    # Given crm-webinar -> crm-events -> crm-webinar, and a campaign below the cycle
    doc["campaigns"][1]["parent"] = "crm-events"
    doc["campaigns"][2]["parent"] = "crm-webinar"
    doc["campaigns"].append({"id": "child", "kind": "crm", "name": "Child", "parent": "crm-events"})
    doc["campaigns"].append({"id": "selfish", "kind": "crm", "name": "Self", "parent": "selfish"})
    assert problems(doc) == [
        "campaigns[1].parent: parent cycle: crm-webinar -> crm-events -> crm-webinar",
        "campaigns[4].parent: parent cycle: selfish -> selfish",
    ]


def test_a_valid_hierarchy_is_accepted(doc: dict[str, Any]) -> None:
    doc["campaigns"][1]["parent"] = "crm-events"
    assert parse_bundle(doc).campaign("crm-webinar").parent == "crm-events"  # type: ignore[union-attr]
