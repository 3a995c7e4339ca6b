"""Lists: static lists and segments, and what a segment's where may reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadflow.definitions import ListKind, Temperature, parse_bundle


def test_static_and_segment_lists(doc: dict[str, Any]) -> None:
    bundle = parse_bundle(doc)
    static, segment = bundle.lists
    assert static.kind is ListKind.STATIC
    assert static.is_static
    assert static.where is None
    assert segment.is_segment
    assert segment.where is not None
    assert segment.where.temperature is Temperature.HOT


def test_list_shape_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["lists"] += [
        {"id": "a", "kind": "segment"},
        {"id": "b", "kind": "static", "where": {"has_tag": "x"}},
        {"id": "c", "kind": "segment", "where": {"activity": "page_view", "url": "*"}},
        {"id": "d", "kind": "dynamic"},
    ]
    assert problems(doc) == [
        "lists[2].where: a segment needs where: the condition its members meet",
        "lists[3].where: a static list has no where; use kind: segment for a list defined by a condition",
        "lists[4].where: a segment is about contacts, not activities: remove activity, url",
        "lists[5].kind: should be 'static' or 'segment' (got \"dynamic\")",
    ]


def test_segment_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["lists"] += [
        {"id": "a", "kind": "segment", "where": {"in_list": "nope", "ma_campaign": "crm-webinar"}},
        {"id": "b", "kind": "segment", "where": {"crm_campaign": "crm-webinar", "status": "Lost"}},
        {"id": "c", "kind": "segment", "where": {"in_list": "registrants", "ma_campaign": "webinar"}},
    ]
    assert problems(doc) == [
        'lists[2].where.in_list: unknown list "nope"',
        'lists[2].where.ma_campaign: "crm-webinar" is a CRM campaign; this needs an MA campaign',
        'lists[3].where.status: unknown member status "Lost" of campaign "crm-webinar" '
        "(it has: Sent, Registered, Attended)",
    ]


def test_a_segment_cannot_depend_on_itself(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["lists"] += [
        {"id": "a", "kind": "segment", "where": {"in_list": "b"}},
        {"id": "b", "kind": "segment", "where": {"in_list": "a"}},
        {"id": "c", "kind": "segment", "where": {"in_list": "c"}},
    ]
    assert problems(doc) == [
        "lists[2].where.in_list: the segment depends on itself: a -> b -> a",
        "lists[3].where.in_list: the segment depends on itself: b -> a -> b",
        "lists[4].where.in_list: the segment depends on itself: c -> c",
    ]
