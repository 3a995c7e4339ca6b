"""to_json_dict round-trips; bundle_diff reports what changes per section."""

from __future__ import annotations

import json
from typing import Any

from leadflow.definitions import Bundle, bundle_diff, parse_bundle, removals, segments_to_rebuild


def test_round_trip_through_json(doc: dict[str, Any]) -> None:
    bundle = parse_bundle(doc)
    stored = json.loads(json.dumps(bundle.to_json_dict()))
    assert parse_bundle(stored) == bundle


def test_json_dict_leaves_out_defaults_and_uses_aliases(doc: dict[str, Any]) -> None:
    data = parse_bundle(doc).to_json_dict()
    assert "version_note" not in data
    form = data["forms"][0]
    assert "double_opt_in" not in form
    assert "enabled" not in form
    assert form["fields"][0] == {
        "name": "email",
        "type": "email",
        "required": True,
    }  # no filled-in max_length
    crm_events = data["campaigns"][2]
    assert crm_events == {"id": "crm-events", "kind": "crm", "name": "Events"}  # defaults refilled on parse
    assert data["flows"][0]["steps"][1] == {"id": "pause", "wait": "2d"}
    assert data["flows"][0]["steps"][2]["branch"] == {
        "if": {"score_at_least": 50},
        "then": "call",
        "else": "end",
    }


def test_json_schema_documents_the_language() -> None:
    schema = Bundle.model_json_schema()
    assert set(schema["properties"]) >= {"campaigns", "forms", "scoring", "flows", "sync_rules", "sites"}
    form = schema["$defs"]["Form"]
    assert form["additionalProperties"] is False
    assert "exactly one of type email" in form["properties"]["fields"]["description"]


def test_diff_from_nothing_adds_everything(doc: dict[str, Any]) -> None:
    diff = bundle_diff(None, parse_bundle(doc))
    assert diff["forms"] == {"added": ["signup"], "removed": [], "changed": []}
    assert diff["campaigns"]["added"] == ["webinar", "crm-webinar", "crm-events"]
    assert diff["scoring"] == {
        "rules": {"added": ["open"], "removed": [], "changed": []},
        "decay": False,
        "temperature": False,
        "qualify": True,
    }


def test_diff_of_equal_bundles_is_empty(doc: dict[str, Any]) -> None:
    assert bundle_diff(parse_bundle(doc), parse_bundle(doc)) == {}


def test_diff_lists_added_removed_and_changed_ids(doc: dict[str, Any]) -> None:
    old = parse_bundle(doc)
    # Given a new version: one template changed, one list removed and one added, a scoring rule changed
    doc["email_templates"][0]["subject"] = "Hello"
    doc["lists"] = [doc["lists"][0], {"id": "vips", "kind": "segment", "where": {"has_tag": "vip"}}]
    doc["scoring"]["rules"][0]["points"] = 12
    doc["scoring"]["rules"].append({"id": "click", "when": {"activity": "email_click"}, "points": 5})
    doc["scoring"]["decay"] = {"points": -1, "every": "30d"}
    new = parse_bundle(doc)
    # Then only the changed sections appear
    assert bundle_diff(old, new) == {
        "lists": {"added": ["vips"], "removed": ["hot"], "changed": []},
        "email_templates": {"added": [], "removed": [], "changed": ["invite"]},
        "scoring": {
            "rules": {"added": ["click"], "removed": [], "changed": ["open"]},
            "decay": True,
            "temperature": False,
            "qualify": False,
        },
    }


def test_reordering_rules_counts_as_a_scoring_change(doc: dict[str, Any]) -> None:
    doc["scoring"]["rules"].append({"id": "click", "when": {"activity": "email_click"}, "points": 5})
    old = parse_bundle(doc)
    doc["scoring"]["rules"].reverse()
    diff = bundle_diff(old, parse_bundle(doc))
    assert diff == {
        "scoring": {
            "rules": {"added": [], "removed": [], "changed": []},
            "decay": False,
            "temperature": False,
            "qualify": False,
        }
    }


def test_removals_name_the_live_items_a_bundle_drops_per_guarded_kind(doc: dict[str, Any]) -> None:
    old = parse_bundle(doc)
    assert removals(bundle_diff(old, parse_bundle({}))) == {
        "campaigns": ["webinar", "crm-webinar", "crm-events"],
        "forms": ["signup"],
        "lists": ["registrants", "hot"],
        "flows": ["followup"],
        "sites": ["www"],
    }
    # Templates, sync rules and scoring rules are not guarded; adding and changing never are
    doc["sync_rules"] = []
    doc["scoring"]["rules"] = []
    doc["lists"].append({"id": "new", "kind": "static"})
    doc["forms"][0]["fields"].append({"name": "company", "type": "text"})
    assert removals(bundle_diff(old, parse_bundle(doc))) == {}
    assert removals(bundle_diff(None, parse_bundle(doc))) == {}


def test_segments_to_rebuild_are_those_added_changed_or_removed(doc: dict[str, Any]) -> None:
    old = parse_bundle(doc)
    doc["lists"] = [
        {"id": "registrants", "kind": "static", "name": "renamed"},  # a static list: never rebuilt
        {"id": "warm", "kind": "segment", "where": {"temperature": "warm"}},
    ]
    new = parse_bundle(doc)
    assert segments_to_rebuild(old, new, bundle_diff(old, new)) == ["hot", "warm"]
    assert segments_to_rebuild(None, new, bundle_diff(None, new)) == ["warm"]
