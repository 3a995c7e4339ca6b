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


# ---------------------------------------------------------------- the pass (domain/processing.py)

from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from leadflow.domain.processing import crm_step, process  # noqa: E402
from leadflow.domain.state import ContactState  # noqa: E402


def state(**values: Any) -> ContactState:
    return ContactState(contact_id="c1", **values)


def custom(name: str, n: int = 0, **facts: Any) -> Activity:
    return Activity(
        activity_id=f"a-{name}-{n}",
        type="custom",
        occurred_at=NOON + timedelta(minutes=n),
        contact_id="c1",
        properties={"name": name},
        facts=ActivityFacts(**facts),
    )


def tagging(*names: str) -> dict[str, Any]:
    """Scoring rules: the custom event ``n`` tags the contact ``n``."""
    return {
        "rules": [
            {"id": f"s-{n}", "when": {"activity": "custom", "name": n}, "points": 1, "add_tags": [n]}
            for n in names
        ]
    }


def changes(outcome: Any) -> list[tuple[str, str | None, str, str]]:
    return [(c.campaign_id, c.previous_status, c.status, c.source) for c in outcome.crm_memberships]


def test_an_ma_to_crm_rule_adds_then_moves_forward_and_reapplying_changes_nothing():
    model = bundle(
        [
            to_crm("vip", {"has_tag": "vip"}, status="Registered"),
            to_crm("hot", {"score_at_least": 3}, status="Won"),
        ],
        scoring=tagging("vip", "more"),
    )
    first = process(model, state(), custom("vip"))
    assert changes(first) == [("crm-x", None, "Registered", "rule")]
    assert first.after.crm_statuses == {"crm-x": "Registered"}
    assert [kind for kind, _ in first.events][-1] == "CrmCampaignMemberAdded"
    again = process(model, first.after, custom("vip", 1))  # tag already there: nothing can start to hold
    assert changes(again) == []
    second = process(model, again.after, custom("more", 2))  # the score crosses 3
    assert changes(second) == [("crm-x", "Registered", "Won", "rule")]
    _, detail = next(event for event in second.events if event[0] == "CrmCampaignMemberStatusChanged")
    assert detail["previous_status"] == "Registered"
    assert detail["first_response"] is True


def test_a_rule_never_moves_a_status_back_even_after_an_admin_moved_it_forward():
    model = bundle([to_crm("vip", {"has_tag": "vip"}, status="Registered")], scoring=tagging("vip"))
    outcome = process(model, state(crm_statuses={"crm-x": "Won"}), custom("vip"))
    assert changes(outcome) == []
    assert outcome.after.crm_statuses == {"crm-x": "Won"}


def test_a_closed_campaign_refuses_a_rule_and_the_refusal_is_kept():
    model = bundle([to_crm("late", {"has_tag": "vip"}, campaign="crm-closed")], scoring=tagging("vip"))
    outcome = process(model, state(), custom("vip"))
    assert changes(outcome) == []
    assert outcome.crm_refused == [("crm-closed", "campaign_closed")]


def test_joining_an_ma_campaign_mirrors_into_its_connected_crm_campaign_once():
    model = bundle([])
    joined = Activity(
        activity_id="a-form",
        type="form_submit",
        occurred_at=NOON,
        contact_id="c1",
        properties={"form_id": "signup"},
        facts=ActivityFacts(ma_campaign_joined="webinar", contact_created=True),
    )
    outcome = process(model, state(ma_campaign_id="webinar"), joined)
    assert changes(outcome) == [("crm-mirror", None, "Sent", "connected")]
    again = process(model, outcome.after, joined.model_copy(update={"activity_id": "a-form-2"}))
    assert changes(again) == []


def test_crm_to_ma_rules_act_on_the_ma_side_and_never_on_the_ma_campaign():
    model = bundle(
        [
            to_crm("vip", {"has_tag": "vip"}, status="Attended"),
            to_ma("attended", {"crm_campaign": "crm-x", "status": "Registered"}, add_tags=["came"]),
            to_ma("nurture", {"crm_campaign": "crm-x"}, add_to_list="nurture", enroll="post-webinar"),
        ],
        scoring=tagging("vip"),
    )
    outcome = process(model, state(ma_campaign_id=None), custom("vip"))
    assert outcome.after.tags == {"vip", "came"}  # Registered was reached on the way to Attended
    assert outcome.lists_joined == ["nurture"]
    assert outcome.flows_to_enroll == ["post-webinar"]
    assert outcome.after.ma_campaign_id is None
    assert outcome.sync_rules_fired == ["vip", "attended", "nurture"]


def test_a_manual_crm_change_runs_crm_to_ma_rules_but_never_touches_the_ma_campaign():
    model = bundle([to_ma("attended", {"crm_campaign": "crm-x", "status": "Attended"}, add_to_list="vips")])
    recorded = Activity(
        activity_id="a-crm",
        type="crm_status_changed",
        occurred_at=NOON,
        contact_id="c1",
        properties={
            "campaign_id": "crm-x",
            "status": "Attended",
            "previous_status": "Sent",
            "source": "manual",
        },
    )
    before = state(ma_campaign_id="webinar", crm_statuses={"crm-x": "Attended"})
    outcome = process(model, before, recorded)
    assert outcome.after.ma_campaign_id == "webinar"
    assert outcome.after.lists == {"vips"}
    assert changes(outcome) == []  # the service wrote the membership; the pass does not rewrite it
    [(kind, detail)] = [event for event in outcome.events if event[0].startswith("CrmCampaign")]
    assert kind == "CrmCampaignMemberStatusChanged"
    assert (detail["previous_status"], detail["status"], detail["source"]) == ("Sent", "Attended", "manual")


def test_a_rule_loop_ends_inside_one_pass_with_each_rule_fired_once():
    # A: tag loop -> X Registered; B: X Registered -> list vips; C: in vips -> X Attended;
    # D: X Attended -> tag loop again (matches A again): the pass ends, each rule once
    model = bundle(
        [
            to_crm("a", {"has_tag": "loop"}, status="Registered"),
            to_ma("b", {"crm_campaign": "crm-x", "status": "Registered"}, add_to_list="vips"),
            to_crm("c", {"in_list": "vips"}, status="Attended"),
            to_ma("d", {"crm_campaign": "crm-x", "status": "Attended"}, add_tags=["loop", "done"]),
            to_crm("e", {"has_tag": "done"}, campaign="crm-y"),
        ],
        scoring=tagging("loop"),
    )
    outcome = process(model, state(), custom("loop"))
    assert outcome.sync_rules_fired == ["a", "b", "c", "d", "e"]
    assert changes(outcome) == [
        ("crm-x", None, "Registered", "rule"),
        ("crm-x", "Registered", "Attended", "rule"),
        ("crm-y", None, "Sent", "rule"),
    ]
    replay = process(model, outcome.after, custom("loop", 1))
    assert changes(replay) == []
    assert replay.sync_rules_fired == []


def test_a_flow_step_goes_through_the_same_decision_and_sets_off_crm_to_ma_rules():
    model = bundle([to_ma("any", {"crm_campaign": "crm-x"}, add_tags=["in-x"])])
    outcome = crm_step(model, state(), "crm-x", "Registered", source="flow", at="2026-11-24T12:00:00Z")
    assert changes(outcome) == [("crm-x", None, "Registered", "flow")]
    assert outcome.after.tags == {"in-x"}
    assert [kind for kind, _ in outcome.events] == ["CrmCampaignMemberAdded"]
    again = crm_step(model, outcome.after, "crm-x", "Sent", source="flow", at="2026-11-24T13:00:00Z")
    assert changes(again) == []
    assert again.events == []


# ---------------------------------------------------------------- order independence (hypothesis)

ORDER = [status["name"] for status in STATUSES]
TAGS = ["t0", "t1", "t2", "t3", "t4"]

ma_rules = st.lists(st.tuples(st.sampled_from(TAGS), st.sampled_from(ORDER)), min_size=1, max_size=6)
back_rules = st.lists(st.tuples(st.sampled_from(ORDER), st.sampled_from(TAGS)), max_size=4)


def _rule_set(forward: list[tuple[str, str]], back: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rules = [to_crm(f"f{i}", {"has_tag": tag}, status=status) for i, (tag, status) in enumerate(forward)]
    rules += [
        to_ma(f"b{i}", {"crm_campaign": "crm-x", "status": status}, add_tags=[tag])
        for i, (status, tag) in enumerate(back)
    ]
    return rules


def _expected(forward: list[tuple[str, str]], back: list[tuple[str, str]], tags: set[str]) -> str | None:
    """The max status reachable: close the tag set over the rules, independent of any order."""
    tags, best = set(tags), -1
    while True:
        best = max([best] + [ORDER.index(status) for tag, status in forward if tag in tags])
        more = {tag for status, tag in back if ORDER.index(status) <= best} - tags
        if not more:
            return ORDER[best] if best >= 0 else None
        tags |= more


@settings(max_examples=150, deadline=None)
@given(
    forward=ma_rules,
    back=back_rules,
    events=st.lists(st.sampled_from(TAGS), min_size=1, max_size=5),
    data=st.data(),
)
def test_the_final_status_is_the_max_reachable_whatever_the_order_of_rules_and_activities(
    forward, back, events, data
):
    rules = _rule_set(forward, back)
    shuffled_rules = data.draw(st.permutations(rules))
    shuffled_events = data.draw(st.permutations(events))
    finals = []
    for rule_set, order in ((rules, events), (shuffled_rules, shuffled_events)):
        model = bundle(rule_set, scoring=tagging(*TAGS))
        current = state()
        for n, name in enumerate(order):
            outcome = process(model, current, custom(name, n))
            assert len(outcome.sync_rules_fired) == len(set(outcome.sync_rules_fired))  # each once a pass
            current = outcome.after
        finals.append((current.crm_statuses.get("crm-x"), current.tags))
    assert finals[0] == finals[1]
    assert finals[0][0] == _expected(forward, back, set(events))


def _recorded(kind: str, **properties: Any) -> Activity:
    return Activity(
        activity_id=f"a-{kind}", type=kind, occurred_at=NOON, contact_id="c1", properties=properties
    )


def test_a_recorded_change_that_names_no_crm_campaign_sets_nothing_off():
    model = bundle([to_ma("any-x", {"crm_campaign": "crm-x"}, add_tags=["in-x"])])
    hostile = [
        _recorded("crm_status_changed"),  # no properties at all
        _recorded("crm_status_changed", campaign_id=["crm-x"], status="Sent"),  # not a string
        _recorded("crm_status_changed", campaign_id="gone", status="Sent"),  # no such campaign
        _recorded("crm_status_changed", campaign_id="webinar", status="Sent"),  # an MA campaign
        _recorded("crm_member_removed", campaign_id="crm-x", previous_status="Sent"),  # a removal
    ]
    for activity in hostile:
        outcome = process(model, state(crm_statuses={"crm-x": "Sent"}), activity)
        assert outcome.sync_rules_fired == [], activity
        assert outcome.after.tags == set()
        assert outcome.crm_memberships == []


def test_a_disabled_flow_named_by_a_crm_to_ma_rule_is_not_started():
    from leadflow.domain.processing import flows_to_start

    flows = [
        {
            "id": "post-webinar",
            "enabled": False,
            "trigger": {"tag_added": "x"},
            "steps": [{"id": "w", "wait": "1d"}],
        }
    ]
    model = bundle(
        [to_crm("vip", {"has_tag": "vip"}), to_ma("in", {"crm_campaign": "crm-x"}, enroll="post-webinar")],
        scoring=tagging("vip"),
        flows=flows,
    )
    activity = custom("vip")
    outcome = process(model, state(), activity)
    assert outcome.flows_to_enroll == ["post-webinar"]
    assert flows_to_start(model, outcome, activity) == []
