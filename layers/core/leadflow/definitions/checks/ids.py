"""Uniqueness: ids within each section, scoring rule ids, and site write keys."""

from __future__ import annotations

from collections.abc import Sequence

from leadflow.definitions.checks.context import Checker
from leadflow.definitions.sections import LIST_SECTIONS


def _unique(checker: Checker, values: Sequence[str], path_of: Sequence[str], what: str) -> None:
    first: dict[str, str] = {}
    for value, path in zip(values, path_of, strict=True):
        if value in first:
            checker.add(path, f'duplicate {what} "{value}" (also {first[value]})')
        else:
            first[value] = path.rsplit(".", 1)[0]


def check_ids(checker: Checker) -> None:
    bundle = checker.bundle
    for section in LIST_SECTIONS:
        items = getattr(bundle, section)
        paths = [f"{checker.at(section, index)}.id" for index in range(len(items))]
        _unique(checker, [item.id for item in items], paths, "id")
    rules = bundle.scoring.rules
    _unique(
        checker, [rule.id for rule in rules], [f"scoring.rules[{i}].id" for i in range(len(rules))], "rule id"
    )
    _unique(
        checker,
        [site.write_key for site in bundle.sites],
        [f"{checker.at('sites', index)}.write_key" for index in range(len(bundle.sites))],
        "write key",
    )
