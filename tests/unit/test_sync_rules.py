"""The sync rule index: a change finds only the rules it can make start to hold, in bundle order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadflow.definitions import Bundle
from leadflow.domain.activities import Activity, ActivityFacts
from leadflow.domain.sync_rules import Delta, SyncRuleIndex, condition_keys, reached_statuses

NOON = datetime(2026, 11, 24, 12, tzinfo=UTC)
STATUSES = [
    {"name": "Sent", "default": True},
    {"name": "Registered"},
    {"name": "Attended", "responded": True},
    {"name": "Won", "responded": True},
]


def bundle(sync_rules: list[dict[str, Any]], **sections: Any) -> Bundle:
    return Bundle.model_validate(
        {
            "campaigns": [
                {"id": "webinar", "kind": "ma", "name": "Webinar", "connected_crm_campaign": "crm-mirror"},
                {"id": "crm-x", "kind": "crm", "name": "X", "member_statuses": STATUSES},
                {"id": "crm-y", "kind": "crm", "name": "Y", "member_statuses": STATUSES},
                {"id": "crm-mirror", "kind": "crm", "name": "Mirror"},
                {"id": "crm-closed", "kind": "crm", "name": "Closed", "status": "completed"},
            ],
            "forms": [
                {
                    "id": "signup",
                    "campaign": "webinar",
                    "fields": [{"name": "email", "type": "email", "required": True}],
                }
            ],
            "lists": [
                {"id": "nurture", "kind": "static"},
                {"id": "vips", "kind": "static"},
                {"id": "tagged-b", "kind": "segment", "where": {"has_tag": "b"}},
            ],
            "flows": [
                {
                    "id": "post-webinar",
                    "trigger": {"tag_added": "never-added"},
                    "steps": [{"id": "wait", "wait": "1d"}],
                }
            ],
            "sync_rules": sync_rules,
            **sections,
        }
    )


def to_crm(rule_id: str, when: dict[str, Any], campaign: str = "crm-x", status: str | None = None) -> dict:
    then: dict[str, Any] = {"add_to_crm_campaign": campaign}
    if status:
        then["status"] = status
    return {"id": rule_id, "direction": "ma_to_crm", "when": when, "then": then}


def to_ma(rule_id: str, when: dict[str, Any], **then: Any) -> dict:
    return {"id": rule_id, "direction": "crm_to_ma", "when": when, "then": then}


def activity(kind: str, **properties: Any) -> Activity:
    return Activity(
        activity_id=f"a-{kind}", type=kind, occurred_at=NOON, contact_id="c1", properties=properties
    )


def ids(rules: list[Any]) -> list[str]:
    return [getattr(rule, "rule", rule).id for rule in rules]


RULES = [
    to_crm("form", {"activity": "form_submit", "form": "signup"}),
    to_crm("any-form", {"activity": "form_submit"}),
    to_crm("tag-vip", {"has_tag": "vip"}),
    to_crm("list-vips", {"in_list": "vips"}),
    to_crm("mql", {"stage_in": ["mql", "sql"]}),
    to_crm("fifty", {"score_at_least": 50}),
    to_crm("hundred", {"score_at_least": 100, "has_tag": "vip"}),
    to_crm("cooled", {"score_below": 20}),
    to_crm("joined", {"ma_campaign": "webinar", "score_at_least": 10}),
    to_crm("from-crm", {"crm_campaign": "crm-y", "status": "Attended"}),
    to_crm("german", {"field": {"name": "country", "value": "DE"}}),
    to_crm("off", {"has_tag": "vip"}) | {"enabled": False},
    to_ma("attended", {"crm_campaign": "crm-x", "status": "Attended"}, add_tags=["attended"]),
    to_ma("any-x", {"crm_campaign": "crm-x"}, add_to_list="nurture"),
    to_ma(
        "registered-vip",
        {"crm_campaign": "crm-x", "status": "Registered", "has_tag": "vip"},
        enroll="post-webinar",
    ),
]


def test_each_change_finds_only_the_rules_it_can_make_hold_in_bundle_order():
    index = SyncRuleIndex(bundle(RULES))
    assert ids(index.ma_to_crm(Delta(activity=activity("form_submit", form_id="signup")))) == [
        "form",
        "any-form",
        "german",  # capture may have changed the fields
    ]
    assert ids(index.ma_to_crm(Delta(activity=activity("form_submit", form_id="other")))) == [
        "any-form",
        "german",
    ]
    assert ids(index.ma_to_crm(Delta(activity=activity("page_view")))) == []
    assert ids(index.ma_to_crm(Delta(tags_added={"vip", "other"}))) == ["tag-vip", "hundred"]
    assert ids(index.ma_to_crm(Delta(lists_joined={"vips"}))) == ["list-vips"]
    assert ids(index.ma_to_crm(Delta(stage="sql"))) == ["mql"]
    assert ids(index.ma_to_crm(Delta(stage="lead"))) == []
    assert ids(index.ma_to_crm(Delta(ma_campaign_joined="webinar"))) == ["joined"]
    assert ids(index.ma_to_crm(Delta(crm_changed={"crm-y"}))) == ["from-crm"]


def test_a_score_rule_is_found_only_when_the_score_crosses_its_threshold():
    index = SyncRuleIndex(bundle(RULES))
    assert ids(index.ma_to_crm(Delta(score_before=40, score_after=60))) == ["fifty"]
    assert ids(index.ma_to_crm(Delta(score_before=5, score_after=100))) == ["fifty", "hundred", "joined"]
    assert ids(index.ma_to_crm(Delta(score_before=50, score_after=99))) == []  # held already
    assert ids(index.ma_to_crm(Delta(score_before=20, score_after=19))) == ["cooled"]
    assert ids(index.ma_to_crm(Delta(score_before=19, score_after=5))) == []
    assert ids(index.ma_to_crm(Delta(score_before=60, score_after=60))) == []


def test_crm_to_ma_rules_wait_for_their_status_or_any_change():
    index = SyncRuleIndex(bundle(RULES))
    added = Delta(crm_changed={"crm-x"}, crm_reached={("crm-x", "Sent")})
    assert ids(index.crm_to_ma(added)) == ["any-x"]
    jumped = Delta(crm_changed={"crm-x"}, crm_reached={("crm-x", "Registered"), ("crm-x", "Attended")})
    assert ids(index.crm_to_ma(jumped)) == ["attended", "any-x", "registered-vip"]
    assert ids(index.crm_to_ma(Delta(crm_changed={"crm-y"}, crm_reached={("crm-y", "Attended")}))) == []
    moved_back = Delta(crm_changed={"crm-x"})  # an admin set an earlier status: nothing reached
    assert ids(index.crm_to_ma(moved_back)) == ["any-x"]


def test_disabled_rules_are_not_indexed_and_an_empty_when_starts_with_the_contact():
    index = SyncRuleIndex(bundle([to_crm("everyone", {}), to_crm("off", {}) | {"enabled": False}]))
    created = Activity(
        activity_id="a1",
        type="form_submit",
        occurred_at=NOON,
        contact_id="c1",
        facts=ActivityFacts(contact_created=True),
    )
    assert ids(index.ma_to_crm(Delta(activity=created))) == ["everyone"]
    assert ids(index.ma_to_crm(Delta(activity=activity("form_submit")))) == []
    assert condition_keys(_when({})) == [("created", "")]


def _when(value: dict[str, Any]) -> Any:
    from leadflow.definitions.conditions import Condition

    return Condition.model_validate(value)


def test_reached_statuses_walk_the_campaigns_order_forward_only():
    campaign = bundle([]).campaign("crm-x")
    assert campaign is not None
    assert reached_statuses(campaign, None, "Sent") == ["Sent"]
    assert reached_statuses(campaign, None, "Attended") == ["Sent", "Registered", "Attended"]
    assert reached_statuses(campaign, "Registered", "Won") == ["Attended", "Won"]
    assert reached_statuses(campaign, "Won", "Sent") == []
    assert reached_statuses(campaign, "Sent", "Gone") == []
