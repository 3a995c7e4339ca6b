"""The pure processing core: rule matching through the index, points, tags, stages,
qualification, segments and decay, without any AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadflow.definitions import Bundle
from leadflow.domain.activities import Activity, ActivityFacts
from leadflow.domain.processing import decay, next_decay, process
from leadflow.domain.rule_index import RuleIndex
from leadflow.domain.state import ContactState

NOON = datetime(2026, 11, 24, 12, tzinfo=UTC)


def bundle(rules: list[dict[str, Any]], **scoring: Any) -> Bundle:
    return Bundle.model_validate(
        {
            "campaigns": [
                {"id": "ma", "kind": "ma", "name": "MA"},
                {
                    "id": "crm",
                    "kind": "crm",
                    "name": "CRM",
                    "member_statuses": [{"name": "Sent", "default": True}],
                },
            ],
            "forms": [
                {
                    "id": "signup",
                    "campaign": "ma",
                    "fields": [{"name": "email", "type": "email", "required": True}],
                    "on_submit": [{"add_tags": ["signed-up"]}, {"add_to_list": "registrants"}],
                },
                {
                    "id": "other",
                    "campaign": "ma",
                    "fields": [{"name": "email", "type": "email", "required": True}],
                },
            ],
            "scoring": {"rules": rules, "temperature": {"warm": 30, "hot": 80}, **scoring},
            "lists": [
                {"id": "registrants", "kind": "static"},
                {"id": "hot", "kind": "segment", "where": {"temperature": "hot"}},
            ],
        }
    )


def activity(kind: str, *, when: datetime = NOON, **properties: Any) -> Activity:
    return Activity(
        activity_id=f"a-{kind}-{when.isoformat()}",
        type=kind,
        occurred_at=when,
        contact_id="c1",
        properties=properties,
    )


def state(**values: Any) -> ContactState:
    return ContactState(contact_id="c1", **values)


RULES = [
    {"id": "any-form", "when": {"activity": "form_submit"}, "points": 5},
    {"id": "signup-form", "when": {"activity": "form_submit", "form": "signup"}, "points": 7},
    {"id": "pricing", "when": {"activity": "page_view", "url": "*/pricing*"}, "points": 20, "max_per_day": 1},
    {"id": "docs", "when": {"activity": "page_view", "url": "*/docs/*"}, "points": 3},
    {"id": "page", "when": {"activity": "page_view"}, "points": 2},
    {
        "id": "wp",
        "when": {"activity": "download", "asset_type": "whitepaper"},
        "points": 40,
        "tag_from": "topic",
    },
    {"id": "cart", "when": {"activity": "custom", "name": "cart_abandoned"}, "points": -5},
]


def test_index_narrows_by_form_name_asset_type_and_url_segment_but_keeps_bundle_order():
    index = RuleIndex(bundle(RULES).scoring)
    ids = lambda act: [rule.id for rule in index.candidates(act)]  # noqa: E731
    assert ids(activity("form_submit", form_id="signup")) == ["any-form", "signup-form"]
    assert ids(activity("form_submit", form_id="other")) == ["any-form"]
    assert ids(activity("page_view", url="https://x.com/docs/start")) == ["pricing", "docs", "page"]
    assert ids(activity("page_view", url="https://x.com/blog")) == ["pricing", "page"]
    assert ids(activity("custom", name="cart_abandoned")) == ["cart"]
    assert ids(activity("custom", name="other")) == []
    assert ids(activity("email_open")) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/pricing", 22),
        ("https://x.com/PRICING?plan=pro", 22),
        ("https://x.com/docs/a", 5),
        ("https://x.com/about", 2),
    ],
)
def test_url_globs_match_case_insensitively(url, expected):
    outcome = process(bundle(RULES), state(), activity("page_view", url=url))
    assert outcome.points == expected


def test_max_per_day_counts_per_utc_day():
    model = bundle(RULES)
    first = process(model, state(), activity("page_view", url="https://x.com/pricing"))
    second = process(
        model,
        first.after,
        activity("page_view", when=NOON + timedelta(minutes=5), url="https://x.com/pricing"),
    )
    next_day = process(
        model, second.after, activity("page_view", when=NOON + timedelta(days=1), url="https://x.com/pricing")
    )
    assert [first.points, second.points, next_day.points] == [22, 2, 22]


def test_tag_from_turns_a_property_into_a_tag_once():
    model = bundle(RULES)
    outcome = process(
        model, state(), activity("download", asset_type="whitepaper", topic="Serverless Costs!")
    )
    assert outcome.tags_added == ["serverless-costs"]
    again = process(
        model,
        outcome.after,
        activity("download", when=NOON + timedelta(1), asset_type="whitepaper", topic="serverless costs"),
    )
    assert again.tags_added == []
    assert again.after.score == 80


def test_form_completion_actions_and_lead_stage():
    outcome = process(bundle(RULES), state(), activity("form_submit", form_id="signup"))
    assert outcome.after.tags == {"signed-up"}
    assert outcome.lists_joined == ["registrants"]
    assert outcome.after.stage == "lead"
    assert [kind for kind, _ in outcome.events] == ["FormSubmitted", "ContactScored", "LifecycleStageChanged"]


def test_stage_never_moves_backwards():
    outcome = process(bundle(RULES), state(stage="customer"), activity("form_submit", form_id="signup"))
    assert outcome.after.stage == "customer"


def test_crossing_the_mql_score_qualifies_once_and_runs_the_actions():
    model = bundle(RULES, qualify={"mql_score": 40, "actions": [{"add_to_crm_campaign": "crm"}]})
    outcome = process(model, state(score=30, stage="lead"), activity("download", asset_type="whitepaper"))
    assert outcome.qualified
    assert outcome.after.stage == "mql"
    assert [(change.campaign_id, change.status) for change in outcome.crm_memberships] == [("crm", "Sent")]
    assert "LeadQualified" in [kind for kind, _ in outcome.events]
    later = process(
        model, outcome.after, activity("download", when=NOON + timedelta(1), asset_type="whitepaper")
    )
    assert not later.qualified
    assert later.crm_memberships == []


def test_segments_follow_the_score_both_ways():
    model = bundle(RULES)
    hot = process(model, state(score=70), activity("page_view", url="https://x.com/pricing"))
    assert hot.lists_joined == ["hot"]
    cooled = process(model, state(score=82, lists={"hot"}), activity("custom", name="cart_abandoned"))
    assert cooled.after.score == 77
    assert cooled.lists_left == ["hot"]


def test_facts_from_capture_are_announced():
    act = activity("form_submit", form_id="other")
    act.facts = ActivityFacts(contact_created=True, ma_campaign_joined="ma", status="subscribed")
    kinds = [kind for kind, _ in process(bundle(RULES), state(), act).events]
    assert kinds[:3] == ["ContactCreated", "MaCampaignJoined", "FormSubmitted"]


def test_decay_lowers_towards_the_floor_and_stops_there():
    model = bundle(RULES, decay={"points": -5, "every": "30d", "floor": 3})
    assert next_decay(model, state(score=3), NOON) is None
    assert next_decay(model, state(score=9), NOON) == NOON + timedelta(days=30)
    first = decay(model, state(score=9), NOON)
    assert first.after.score == 4
    second = decay(model, first.after, NOON + timedelta(days=30))
    assert second.after.score == 3
    assert [entry.points for entry in second.ledger] == [-1]
    assert next_decay(model, second.after, NOON) is None


def test_without_decay_nothing_decays():
    model = bundle(RULES)
    assert next_decay(model, state(score=50), NOON) is None
    assert decay(model, state(score=50), NOON).ledger == []
