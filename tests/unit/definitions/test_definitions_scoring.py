"""Scoring: rules indexed by activity, decay, temperature bands, qualification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from leadflow.definitions import ActivityType, Scoring, Temperature, parse_bundle

SPEC_RULES: list[dict[str, Any]] = [
    {"id": "form", "when": {"activity": "form_submit"}, "points": 5},
    {"id": "open", "when": {"activity": "email_open"}, "points": 10},
    {"id": "click", "when": {"activity": "email_click"}, "points": 15},
    {"id": "pricing", "when": {"activity": "page_view", "url": "*/pricing*"}, "points": 20, "max_per_day": 1},
    {"id": "page", "when": {"activity": "page_view"}, "points": 2},
    {
        "id": "whitepaper",
        "when": {"activity": "download", "asset_type": "whitepaper"},
        "points": 40,
        "tag_from": "topic",
    },
    {"id": "trial", "when": {"activity": "trial_signup"}, "points": 100},
    {"id": "unsub", "when": {"activity": "unsubscribe"}, "points": -50},
]


def test_rules_are_indexed_by_activity_in_bundle_order() -> None:
    scoring = Scoring.model_validate({"rules": SPEC_RULES})
    assert [r.id for r in scoring.rules_for(ActivityType.PAGE_VIEW)] == ["pricing", "page"]
    assert [r.id for r in scoring.rules_for("unsubscribe")] == ["unsub"]
    assert scoring.rules_for("event_registration") == []
    assert scoring.rules_for("not-an-activity") == []
    assert scoring.rule("whitepaper").tag_from == "topic"  # type: ignore[union-attr]
    assert scoring.rule("unsub").points == -50  # type: ignore[union-attr]


def test_decay_temperature_and_qualify(doc: dict[str, Any]) -> None:
    doc["scoring"] = {
        "rules": SPEC_RULES,
        "decay": {"points": -5, "every": "30d", "floor": 0},
        "temperature": {"warm": 30, "hot": 80},
        "qualify": {
            "mql_score": 100,
            "or_activity": ["trial_signup"],
            "actions": [
                {"add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Sent"}},
                {"add_tags": ["mql"]},
            ],
        },
    }
    scoring = parse_bundle(doc).scoring
    assert scoring.decay is not None
    assert scoring.decay.every == timedelta(days=30)
    assert [scoring.temperature_of(s) for s in (0, 29, 30, 79, 80, 500)] == [
        Temperature.COLD,
        Temperature.COLD,
        Temperature.WARM,
        Temperature.WARM,
        Temperature.HOT,
        Temperature.HOT,
    ]
    assert scoring.qualify is not None
    assert scoring.qualify.or_activity == [ActivityType.TRIAL_SIGNUP]


def test_no_temperature_bands_means_cold() -> None:
    assert Scoring().temperature_of(1000) is Temperature.COLD


def test_scoring_shape_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["scoring"] = {
        "rules": [
            {"id": "a", "when": {"url": "*/pricing*"}, "points": 5},
            {"id": "b", "when": {}, "points": 5},
            {"id": "c", "when": {"activity": "page_view"}, "points": 1, "max_per_day": 0},
            {"id": "d", "when": {"activity": "email_open", "form": "signup"}, "points": 1},
            {"id": "e", "when": {"activity": "page_vue"}, "points": 1},
        ],
        "decay": {"points": 5, "every": "monthly"},
        "temperature": {"warm": 80, "hot": 30},
        "qualify": {"actions": []},
    }
    assert problems(doc) == [
        "scoring.rules[0].when: url tests an activity's properties: add activity (such as page_view) "
        "to say which activity",
        "scoring.rules[1].when: a scoring rule's when needs activity (such as page_view): rules are "
        "indexed by it",
        "scoring.rules[2].max_per_day: should be greater than or equal to 1 (got 0)",
        "scoring.rules[3].when: form only applies to activity form_submit, not email_open",
        "scoring.rules[4].when.activity: should be 'form_submit', 'page_view', 'download', "
        "'event_registration', "
        "'trial_signup', 'custom', 'email_sent', 'email_open', 'email_click', 'email_bounced', "
        "'email_complained', 'unsubscribe' or 'crm_status_changed' (got \"page_vue\")",
        "scoring.decay.points: should be less than 0 (got 5)",
        'scoring.decay.every: "monthly" is not a duration: write a number and a unit, such as 30s, 30m, '
        "1h, 2d, 2w",
        "scoring.temperature: hot (30) must be greater than warm (80)",
        "scoring.qualify: qualify needs mql_score or or_activity",
    ]


def test_qualify_or_activity_must_be_activity_types(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["scoring"]["qualify"]["or_activity"] = ["trial_signup", "demo_request"]
    found = problems(doc)
    assert len(found) == 1
    assert found[0].startswith("scoring.qualify.or_activity[1]: should be 'form_submit'")


def test_scoring_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["scoring"]["rules"] += [
        {"id": "open", "when": {"activity": "form_submit", "form": "nope"}, "points": 1},
        {"id": "listed", "when": {"activity": "page_view", "in_list": "nope"}, "points": 1},
    ]
    doc["scoring"]["qualify"]["actions"] = [
        {"add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Won"}},
        {"enroll": "nope"},
    ]
    assert problems(doc) == [
        'scoring.rules[1].id: duplicate rule id "open" (also scoring.rules[0])',
        'scoring.rules[1].when.form: unknown form "nope"',
        'scoring.rules[2].when.in_list: unknown list "nope"',
        'scoring.qualify.actions[0].add_to_crm_campaign.status: unknown member status "Won" of campaign '
        '"crm-webinar" (it has: Sent, Registered, Attended)',
        'scoring.qualify.actions[1].enroll: unknown flow "nope"',
    ]
