"""Scoring: the references in rule conditions and in qualification actions."""

from __future__ import annotations

from leadflow.definitions.checks.context import Checker
from leadflow.definitions.checks.references import check_actions, check_condition


def check_scoring(checker: Checker) -> None:
    scoring = checker.bundle.scoring
    for index, rule in enumerate(scoring.rules):
        check_condition(checker, f"scoring.rules[{index}].when", rule.when)
    if scoring.qualify is not None:
        check_actions(checker, "scoring.qualify.actions", scoring.qualify.actions)
