"""Sync rules (one direction each) and tracking sites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadflow.definitions import CrmToMaRule, MaToCrmRule, SyncDirection, parse_bundle


def test_sync_rules_parse_by_direction(doc: dict[str, Any]) -> None:
    to_crm, to_ma = parse_bundle(doc).sync_rules
    assert isinstance(to_crm, MaToCrmRule)
    assert to_crm.direction is SyncDirection.MA_TO_CRM
    assert to_crm.then.add_to_crm_campaign == "crm-webinar"
    assert to_crm.then.status == "Registered"
    assert isinstance(to_ma, CrmToMaRule)
    assert to_ma.then.enroll == "followup"
    assert to_ma.when.crm_campaign == "crm-webinar"
    assert to_ma.when.status == "Attended"


def test_sync_rule_shape_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["sync_rules"] += [
        {"id": "a", "direction": "both", "when": {}, "then": {}},
        {"id": "b", "when": {}, "then": {}},
        {"id": "c", "direction": "crm_to_ma", "when": {"ma_campaign": "webinar"}, "then": {}},
        {"id": "d", "direction": "ma_to_crm", "when": {}, "then": {"add_to_list": "registrants"}},
    ]
    assert problems(doc) == [
        "sync_rules[2]: direction must be ma_to_crm or crm_to_ma",
        "sync_rules[3]: direction must be ma_to_crm or crm_to_ma",
        "sync_rules[4].when: a crm_to_ma rule's when needs crm_campaign (and usually status)",
        "sync_rules[4].then: then needs add_to_list, enroll or add_tags",
        "sync_rules[5].then.add_to_crm_campaign: required",
        "sync_rules[5].then.add_to_list: unknown key; allowed here: add_to_crm_campaign, status",
    ]


def test_ma_to_crm_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["sync_rules"][0]["when"]["ma_campaign"] = "crm-webinar"
    doc["sync_rules"][0]["then"] = {"add_to_crm_campaign": "crm-webinar", "status": "Won"}
    doc["sync_rules"].append(
        {
            "id": "x",
            "direction": "ma_to_crm",
            "when": {"has_tag": "vip"},
            "then": {"add_to_crm_campaign": "webinar"},
        }
    )
    assert problems(doc) == [
        'sync_rules[0].when.ma_campaign: "crm-webinar" is a CRM campaign; this needs an MA campaign',
        'sync_rules[0].then.status: unknown member status "Won" of campaign "crm-webinar" '
        "(it has: Sent, Registered, Attended)",
        'sync_rules[2].then.add_to_crm_campaign: "webinar" is an MA campaign; this needs a CRM campaign',
    ]


def test_crm_to_ma_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["sync_rules"][1]["when"] = {"crm_campaign": "crm-webinar", "status": "Gone"}
    doc["sync_rules"][1]["then"] = {"add_to_list": "hot", "enroll": "nope"}
    doc["sync_rules"].append(
        {
            "id": "x",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "webinar"},
            "then": {"add_to_list": "nope"},
        }
    )
    assert problems(doc) == [
        'sync_rules[1].when.status: unknown member status "Gone" of campaign "crm-webinar" '
        "(it has: Sent, Registered, Attended)",
        'sync_rules[1].then.add_to_list: "hot" is a segment; contacts can only be added to a static list',
        'sync_rules[1].then.enroll: unknown flow "nope"',
        'sync_rules[2].when.crm_campaign: "webinar" is an MA campaign; this needs a CRM campaign',
        'sync_rules[2].then.add_to_list: unknown list "nope"',
    ]


def test_sites_need_unique_write_keys_and_origins(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["sites"] += [
        {"id": "shop", "write_key": "wk_www_123456", "allowed_origins": ["https://shop.example.com"]},
        {"id": "blog", "write_key": "short", "allowed_origins": []},
    ]
    # problems come in document order: shape and reference problems of one item together
    assert problems(doc) == [
        'sites[1].write_key: duplicate write key "wk_www_123456" (also sites[0])',
        'sites[2].write_key: a write key is 8 to 128 letters, digits, dashes or underscores (got "short")',
        "sites[2].allowed_origins: needs at least 1 item",
    ]


def test_ids_are_unique_within_each_section(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    for section in ("campaigns", "forms", "lists", "flows", "email_templates", "sync_rules", "sites"):
        doc[section].append({**doc[section][0]})
    doc["sites"][1]["write_key"] = "wk_other_123"
    assert problems(doc) == [
        'campaigns[3].id: duplicate id "webinar" (also campaigns[0])',
        'forms[1].id: duplicate id "signup" (also forms[0])',
        'lists[2].id: duplicate id "registrants" (also lists[0])',
        'flows[1].id: duplicate id "followup" (also flows[0])',
        'email_templates[1].id: duplicate id "invite" (also email_templates[0])',
        'sync_rules[2].id: duplicate id "to-sales" (also sync_rules[0])',
        'sites[1].id: duplicate id "www" (also sites[0])',
        'campaigns[3].connected_crm_campaign: "crm-webinar" is already connected to MA campaign "webinar"; '
        "a CRM campaign mirrors at most one MA campaign",
    ]
