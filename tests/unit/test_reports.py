"""The report arithmetic, pure: what each event counts, rates, cost per response, ROI, the roll-up
through the CRM hierarchy, the funnel's stages and conversions, and the window's bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from leadflow.definitions import Campaign, Stage
from leadflow.domain import aggregates
from leadflow.domain import reports as r
from leadflow.domain.aggregates import BusEvent, Family


def _event(kind: str, detail: dict[str, Any], time: str = "2026-11-24T23:59:59Z") -> BusEvent:
    return BusEvent.model_validate(
        {"detail-type": kind, "source": "leadflow", "time": time, "detail": detail}
    )


def _crm(campaign_id: str, parent: str | None = None, **money: Any) -> Campaign:
    return Campaign.model_validate(
        {"id": campaign_id, "kind": "crm", "name": campaign_id, "parent": parent, **money}
    )


def test_the_stage_names_are_the_definitions_stages():
    assert tuple(str(stage) for stage in Stage.ordered()) == aggregates.STAGES


def test_a_stage_jump_enters_every_stage_on_the_way_and_a_step_back_none():
    assert aggregates.entered("lead", "sql") == ["mql", "sql"]
    assert aggregates.entered(None, "lead") == ["subscriber", "lead"]
    assert aggregates.entered("sql", "lead") == []
    assert aggregates.entered("mql", "mql") == []


def test_a_new_contact_enters_the_first_stage_overall_and_in_its_ma_campaign():
    tally = aggregates.tally(
        _event("ContactCreated", {"event_id": "e1", "contact_id": "c1", "ma_campaign_id": "webinar"})
    )
    assert tally.event_id == "e1"
    assert [(u.family, u.key, u.adds, u.day) for u in tally.updates] == [
        (Family.FUNNEL, "ALL", {"subscriber": 1}, date(2026, 11, 24)),
        (Family.FUNNEL, "webinar", {"subscriber": 1}, date(2026, 11, 24)),
    ]


def test_the_day_is_the_utc_day_of_the_events_own_time_when_it_has_one():
    detail = {"event_id": "e", "contact_id": "c", "from": "lead", "to": "mql"}
    late = datetime(2026, 11, 24, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    tally = aggregates.tally(_event("LifecycleStageChanged", {**detail, "at": late.isoformat()}))
    assert tally.updates[0].day == date(2026, 11, 25)
    tally = aggregates.tally(_event("LifecycleStageChanged", detail, time="2026-11-24T00:00:00+01:00"))
    assert tally.updates[0].day == date(2026, 11, 23)


def test_membership_events_move_members_and_status_counts():
    base = {"event_id": "e", "contact_id": "c", "campaign_id": "x"}
    added = aggregates.tally(_event("CrmCampaignMemberAdded", {**base, "status": "Sent", "responded": False}))
    assert added.updates[0].adds == {"members": 1, "s#Sent": 1}
    changed = aggregates.tally(
        _event(
            "CrmCampaignMemberStatusChanged",
            {**base, "status": "Attended", "previous_status": "Sent", "first_response": True},
        )
    )
    assert changed.updates[0].adds == {"s#Attended": 1, "s#Sent": -1}
    removed = aggregates.tally(
        _event("CrmCampaignMemberRemoved", {**base, "previous_status": "Attended", "responded": True})
    )
    assert removed.updates[0].adds == {"members": -1, "s#Attended": -1}
    assert removed.updates[0].family is Family.CRM


def test_a_status_change_to_the_same_status_counts_nothing_but_is_still_claimed():
    base = {"event_id": "e", "contact_id": "c", "campaign_id": "x"}
    tally = aggregates.tally(
        _event("CrmCampaignMemberStatusChanged", {**base, "status": "Sent", "previous_status": "Sent"})
    )
    assert tally.event_id == "e"
    assert tally.updates == []


def test_status_names_with_any_character_are_their_own_counters():
    for name in ("Sent", "s#Sent", "No-show", "Ω 1", "#c0"):
        assert aggregates.status_of_counter(aggregates.status_counter(name)) == name
    assert aggregates.status_of_counter("members") is None


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("LifecycleStageChanged", {"event_id": "e", "contact_id": "c", "to": "vip"}),
        ("LifecycleStageChanged", {"event_id": "e", "contact_id": "c"}),
        ("MaCampaignJoined", {"event_id": "e", "contact_id": "c"}),
        (
            "CrmCampaignMemberAdded",
            {"event_id": "e", "contact_id": "c", "campaign_id": "x", "status": "x" * 65},
        ),
        ("ContactCreated", {"event_id": "", "contact_id": "c"}),
        ("ContactCreated", {"event_id": "e", "contact_id": None}),
    ],
)
def test_a_detail_without_what_counting_needs_is_refused(kind, detail):
    with pytest.raises(ValidationError):
        aggregates.tally(_event(kind, detail))


def test_an_event_the_reports_do_not_count_is_refused():
    with pytest.raises(aggregates.UncountedEventError):
        aggregates.tally(_event("FormSubmitted", {"event_id": "e", "contact_id": "c"}))


_member_events = st.lists(
    st.tuples(
        st.sampled_from(["add", "change", "remove"]),
        st.sampled_from(["Sent", "Registered", "Attended"]),
        st.sampled_from(["Sent", "Registered", "Attended"]),
        st.booleans(),
        st.text(min_size=1, max_size=8),
    ),
    max_size=30,
)


@given(_member_events, st.randoms())
def test_counts_are_the_same_whatever_order_the_events_arrive_in(events, rng):
    kinds = {
        "add": "CrmCampaignMemberAdded",
        "change": "CrmCampaignMemberStatusChanged",
        "remove": "CrmCampaignMemberRemoved",
    }
    tallies = []
    for index, (kind, status, previous, flag, contact) in enumerate(events):
        detail = {
            "event_id": f"e{index}",
            "contact_id": contact,
            "campaign_id": "x",
            "status": status,
            "previous_status": previous,
            "responded": flag,
            "first_response": flag,
        }
        tallies.append(aggregates.tally(_event(kinds[kind], detail)))

    def total(order: list[aggregates.Tally]) -> dict[tuple[int, str], int]:
        sums: dict[tuple[int, str], int] = {}
        for tally in order:
            for update in tally.updates:
                for name, delta in update.adds.items():
                    sums[(update.shard, name)] = sums.get((update.shard, name), 0) + delta
        return {key: value for key, value in sums.items() if value}

    shuffled = list(tallies)
    rng.shuffle(shuffled)
    assert total(tallies) == total(shuffled)


# ---------------------------------------------------------------- figures


def test_rates_cost_per_response_and_roi_at_their_edges():
    assert r.response_rate(0, 0) is None
    assert r.response_rate(1, 3) == Decimal("0.3333")
    assert r.cost_per_response(None, 5) is None
    assert r.cost_per_response(Decimal(100), 0) is None
    assert r.cost_per_response(Decimal(0), 4) == Decimal("0.00")
    assert r.cost_per_response(Decimal("4200.50"), 3) == Decimal("1400.17")
    assert r.roi(Decimal(5000), Decimal(0)) is None
    assert r.roi(None, Decimal(100)) is None
    assert r.roi(Decimal(5000), None) is None
    assert r.roi(Decimal(0), Decimal(500)) == Decimal(-1)
    assert r.roi(Decimal(60000), Decimal("4200.50")) == Decimal("13.2840")


def test_money_is_summed_in_decimal_and_unknown_only_when_every_part_is():
    total = r.Money(Decimal("0.10"), None, None) + r.Money(Decimal("0.20"), None, Decimal(1))
    assert total == r.Money(Decimal("0.30"), None, Decimal(1))


def test_counted_statuses_follow_the_definition_then_any_retired_one():
    counts = r.CampaignCounts(3, 1, {"Attended": 1, "Old": 2, "Gone": 0})
    figures = r.figures(counts, r.Money(), ["Sent", "Attended"])
    assert list(figures.statuses.items()) == [("Sent", 0), ("Attended", 1), ("Old", 2)]


def test_out_of_order_negatives_never_show():
    figures = r.figures(r.CampaignCounts(-1, -1, {"Sent": -1}), r.Money(actual_cost=Decimal(5)), ["Sent"])
    assert (figures.members, figures.responded, figures.statuses) == (0, 0, {"Sent": 0})
    assert figures.response_rate is None
    assert figures.cost_per_response is None


def test_a_parent_rolls_up_its_whole_tree_and_children_follow_their_parent():
    campaigns = [
        _crm("child-b", parent="root", actual_cost=200, expected_revenue=100),
        _crm("root", actual_cost=100),
        _crm("grandchild", parent="child-a", actual_cost=0, expected_revenue=900),
        _crm("child-a", parent="root"),
        Campaign.model_validate({"id": "ma", "kind": "ma", "name": "MA"}),
    ]
    # responded is read from the statuses the campaign marks responded (default: "Responded")
    counts = {
        "root": r.CampaignCounts(1, 0, {"Sent": 1}),
        "child-a": r.CampaignCounts(2, 0, {"Sent": 1, "Responded": 1}),
        "grandchild": r.CampaignCounts(4, 0, {"Sent": 2, "Responded": 2}),
        "child-b": r.CampaignCounts(3, 99, {"Responded": 3}),
    }
    rows = {row.campaign.id: row for row in r.crm_report(campaigns, counts)}
    assert list(rows) == ["root", "child-b", "child-a", "grandchild"]
    assert rows["root"].hierarchy.members == 10
    assert rows["root"].hierarchy.responded == 6
    assert rows["root"].hierarchy.actual_cost == 300
    assert rows["root"].hierarchy.expected_revenue == 1000
    assert rows["root"].hierarchy.roi == Decimal("2.3333")
    assert rows["root"].hierarchy.cost_per_response == Decimal("50.00")
    assert rows["root"].own.members == 1
    assert rows["child-b"].own.responded == 3  # from its statuses, whatever the counts said
    assert rows["child-a"].hierarchy.members == 6
    assert rows["child-a"].hierarchy.roi is None  # spent 0
    assert rows["grandchild"].depth == 2
    assert rows["root"].children == ["child-b", "child-a"]
    assert rows["grandchild"].hierarchy == rows["grandchild"].own


def test_a_stored_cycle_cannot_loop_the_roll_up():
    # apply refuses cycles (definitions/checks/campaigns.py); a bundle stored before must still report
    campaigns = [_crm("a", parent="b"), _crm("b", parent="a"), _crm("c", parent="c")]
    rows = {
        row.campaign.id: row
        for row in r.crm_report(campaigns, {"a": r.CampaignCounts(1, 0, {"Responded": 1})})
    }
    assert set(rows) == {"a", "b", "c"}
    assert rows["b"].hierarchy.members == 1
    assert rows["b"].hierarchy.responded == 1


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=12), st.data())
def test_every_tree_total_is_its_own_plus_its_childrens_totals(parents, data):
    campaigns = [_crm("c0")]
    for index, parent in enumerate(parents, start=1):
        campaigns.append(_crm(f"c{index}", parent=f"c{min(parent, index - 1)}"))
    counts = {c.id: r.CampaignCounts(data.draw(st.integers(0, 50)), 0) for c in campaigns}
    rows = {row.campaign.id: row for row in r.crm_report(campaigns, counts)}
    for row in rows.values():
        assert row.hierarchy.members == row.own.members + sum(rows[c].hierarchy.members for c in row.children)
    assert rows["c0"].hierarchy.members == sum(count.members for count in counts.values())


# ---------------------------------------------------------------- the funnel


def test_conversion_is_entries_into_the_next_stage_over_entries_into_this_one():
    funnel = r.funnel({"subscriber": 10, "lead": 5, "mql": 0, "sql": 2})
    rates = {(c.from_stage, c.to_stage): c.rate for c in funnel.conversions}
    assert rates[("subscriber", "lead")] == Decimal("0.5")
    assert rates[("lead", "mql")] == 0
    assert rates[("mql", "sql")] is None
    assert funnel.counts["customer"] == 0
    assert len(funnel.conversions) == len(aggregates.STAGES) - 1


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (date(2026, 10, 26), date(2026, 11, 24))),
        (date(2026, 11, 1), None, (date(2026, 11, 1), date(2026, 11, 24))),
        (None, date(2026, 1, 10), (date(2025, 12, 12), date(2026, 1, 10))),
        (None, date(1, 1, 3), (date.min, date(1, 1, 3))),
        (date(2025, 10, 21), date(2026, 11, 24), (date(2025, 10, 21), date(2026, 11, 24))),
    ],
)
def test_the_window_defaults_to_30_days_up_to_today(start, end, expected):
    window = r.window(start, end, today=date(2026, 11, 24))
    assert (window.start, window.end) == expected


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2026, 11, 25), date(2026, 11, 24), "from"),
        (date(2025, 10, 20), date(2026, 11, 24), "to"),
        (date.min, date.max, "to"),
        (date(2026, 11, 25), None, "from"),
    ],
)
def test_a_window_backwards_or_over_400_days_is_refused(start, end, field):
    with pytest.raises(r.WindowError) as raised:
        r.window(start, end, today=date(2026, 11, 24))
    assert raised.value.field == field


@pytest.mark.parametrize(
    "text",
    [
        "2026-1-01",
        "2026-13-01",
        "2026-02-30",
        "20261124",
        "2026-11-24T00:00",
        "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff12\uff14",  # fullwidth digits
        "",
        "-2026-11-2",
    ],
)
def test_only_a_real_yyyy_mm_dd_is_a_day(text):
    with pytest.raises(r.WindowError):
        r.parse_day(text, "from")


def test_a_day_parses():
    assert r.parse_day("2026-11-24", "to") == date(2026, 11, 24)
    assert r.parse_day(None, "to") is None
    assert datetime(2026, 11, 24, tzinfo=UTC).date() == r.parse_day("2026-11-24", "from")


def test_responded_is_the_members_now_in_a_responded_status():
    campaign = Campaign.model_validate(
        {
            "id": "w",
            "kind": "crm",
            "name": "W",
            "member_statuses": [
                {"name": "Sent", "default": True},
                {"name": "Registered", "responded": True},
                {"name": "Attended", "responded": True},
            ],
        }
    )
    counts = {"w": r.CampaignCounts(5, 0, {"Sent": 2, "Registered": 1, "Attended": 2})}
    (row,) = r.crm_report([campaign], counts)
    assert row.own.responded == 3
    assert row.own.response_rate == Decimal("0.6")
    assert list(row.own.statuses) == ["Sent", "Registered", "Attended"]
