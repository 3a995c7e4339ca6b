"""What applying a bundle changes: ``bundle_diff`` for the preview and the history, ``removals``
for the apply guard, ``segments_to_rebuild`` for the background rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadflow.definitions.bundle import Bundle
from leadflow.definitions.lists import ListKind
from leadflow.definitions.scoring import Scoring
from leadflow.definitions.sections import LIST_SECTIONS

GUARDED_SECTIONS: tuple[str, ...] = ("campaigns", "forms", "lists", "flows", "sites", "connectors")
"""Sections whose items live systems depend on (sites post to forms, contacts sit in lists and
campaigns, flows hold enrolments, connectors hold credentials and sync state): removing one
must be confirmed."""


def _ids_diff(old: Sequence[Any], new: Sequence[Any]) -> dict[str, list[str]]:
    before = {item.id: item for item in old}
    after = {item.id: item for item in new}
    return {
        "added": [item_id for item_id in after if item_id not in before],
        "removed": [item_id for item_id in before if item_id not in after],
        "changed": [
            item_id for item_id, item in after.items() if item_id in before and before[item_id] != item
        ],
    }


def _has_changes(diff: dict[str, list[str]]) -> bool:
    return any(diff.values())


def _scoring_diff(old: Scoring, new: Scoring) -> dict[str, Any] | None:
    rules = _ids_diff(old.rules, new.rules)
    parts = {name: getattr(old, name) != getattr(new, name) for name in ("decay", "temperature", "qualify")}
    if not _has_changes(rules) and not any(parts.values()) and old.rules == new.rules:
        return None
    return {"rules": rules, **parts}


def bundle_diff(old: Bundle | None, new: Bundle) -> dict[str, Any]:
    """Per section, the ids added, removed and changed; only sections that change appear.

    ``scoring`` is ``{"rules": {added, removed, changed}, "decay": bool, "temperature": bool,
    "qualify": bool}``. A reordering of rules with no other change counts as rules changed: the
    ids lists stay empty but ``rules`` is reported (order decides which rule's tag comes first).
    """
    base = old or Bundle.model_construct()
    result: dict[str, Any] = {}
    for section in LIST_SECTIONS:
        diff = _ids_diff(getattr(base, section), getattr(new, section))
        if _has_changes(diff):
            result[section] = diff
    scoring = _scoring_diff(base.scoring, new.scoring)
    if scoring is not None:
        result["scoring"] = scoring
    return result


def removals(diff: dict[str, Any]) -> dict[str, list[str]]:
    """Per guarded section, the ids that ``diff`` removes; empty when nothing live would go."""
    return {
        section: list(diff[section]["removed"])
        for section in GUARDED_SECTIONS
        if section in diff and diff[section]["removed"]
    }


def segments_to_rebuild(old: Bundle | None, new: Bundle, diff: dict[str, Any]) -> list[str]:
    """Segments whose membership may differ under ``new``: added, changed or removed ones, or
    every segment when the temperature bands moved."""
    new_segments = {item.id for item in new.lists if item.kind == ListKind.SEGMENT}
    old_segments = {item.id for item in old.lists if item.kind == ListKind.SEGMENT} if old else set()
    if diff.get("scoring", {}).get("temperature"):
        return sorted(new_segments | old_segments)
    lists = diff.get("lists", {})
    touched = set(lists.get("added", [])) | set(lists.get("changed", [])) | set(lists.get("removed", []))
    return sorted(touched & (new_segments | old_segments))
