"""Segments: the references in ``where``, and no segment defined (through others) by itself."""

from __future__ import annotations

from leadflow.definitions.checks.context import Checker
from leadflow.definitions.checks.references import check_condition


def check_lists(checker: Checker) -> None:
    bundle = checker.bundle
    for index, contact_list in enumerate(bundle.lists):
        if contact_list.where is None:
            continue
        at = f"{checker.at('lists', index)}.where"
        check_condition(checker, at, contact_list.where)
        route = [contact_list.id]
        current = contact_list
        while current.where is not None and current.where.in_list is not None:
            target = bundle.list(current.where.in_list)
            if target is None:
                break
            route.append(target.id)
            if target.id == contact_list.id:
                checker.add(f"{at}.in_list", f"the segment depends on itself: {' -> '.join(route)}")
                break
            if target.id in route[:-1]:
                break  # a cycle further on, reported at its own segments
            current = target
