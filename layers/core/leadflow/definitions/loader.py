"""``parse_bundle``: text or data in, a checked ``Bundle`` out, or every problem at once."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from leadflow.definitions.bundle import SKIP_CHECKS, Bundle
from leadflow.definitions.checks import check_bundle
from leadflow.definitions.document import read_document
from leadflow.definitions.errors import DefinitionsError, Problem
from leadflow.definitions.messages import problems_from
from leadflow.definitions.scoring import Scoring
from leadflow.definitions.sections import LIST_SECTIONS, SECTIONS
from leadflow.definitions.templates import CHECK_TEMPLATES


def parse_bundle(
    data: str | bytes | dict[str, Any],
    *,
    content_type: str | None = None,
    check_templates: bool = True,
) -> Bundle:
    """Validate a whole bundle: YAML or JSON text, or already-parsed data.

    Raises ``DefinitionsError`` listing every problem: syntax, shape (per key) and cross-references
    (per reference). ``check_templates=False`` skips the Jinja2 syntax check, for bundles read back
    from the store that were checked when applied (so reading them never imports Jinja2).
    """
    document = read_document(data, content_type)
    context = {SKIP_CHECKS: True, CHECK_TEMPLATES: check_templates}
    try:
        bundle = Bundle.model_validate(document, context=context)
    except ValidationError as error:
        problems = list(problems_from(error))
        problems.extend(_partial_checks(document, context))
        raise DefinitionsError(sorted(problems, key=_document_order)) from None
    problems = check_bundle(bundle)
    if problems:
        raise DefinitionsError(problems)
    return bundle


@cache
def _item_adapter(section: str) -> TypeAdapter[Any]:
    """A validator for one item of a list section, such as one ``Flow``."""
    annotation = Bundle.model_fields[section].annotation
    return TypeAdapter(annotation.__args__[0])  # type: ignore[union-attr]  # list[Item]


def _partial_checks(document: dict[str, Any], context: dict[str, Any]) -> list[Problem]:
    """Cross-reference problems among the items that are valid, when others are not.

    So one bad form does not hide an unknown template in a flow. References to an invalid
    item are not reported as unknown: its own problems are already listed.
    """
    sections: dict[str, Any] = {}
    positions: dict[str, list[int]] = {}
    opaque: dict[str, set[str]] = {}
    for section in LIST_SECTIONS:
        raw = document.get(section)
        valid: list[Any] = []
        positions[section] = []
        opaque[section] = set()
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            try:
                valid.append(_item_adapter(section).validate_python(item, context=context))
                positions[section].append(index)
            except ValidationError:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    opaque[section].add(item["id"])
        sections[section] = valid
    try:
        sections["scoring"] = Scoring.model_validate(document.get("scoring", {}), context=context)
    except ValidationError:
        sections["scoring"] = Scoring()
    partial = Bundle.model_construct(**sections)
    return check_bundle(partial, positions=positions, opaque=opaque)


_SECTION_INDEX = re.compile(r"^(\w+)(?:\[(\d+)\])?")


def _document_order(problem: Problem) -> tuple[int, int]:
    """Sort problems by section, then item, keeping each item's problems together."""
    match = _SECTION_INDEX.match(problem.path)
    if not match:
        return (-1, -1)
    section = match[1]
    order = SECTIONS.index(section) if section in SECTIONS else -1
    return (order, int(match[2]) if match[2] else -1)
