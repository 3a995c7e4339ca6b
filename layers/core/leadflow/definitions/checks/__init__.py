"""Cross-reference checks: what one item says about another, reported with the path where it is said."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from leadflow.definitions.checks.campaigns import check_campaigns
from leadflow.definitions.checks.channels import check_channel_keys
from leadflow.definitions.checks.connectors import check_connectors
from leadflow.definitions.checks.context import Checker, Definitions
from leadflow.definitions.checks.flows import check_flows
from leadflow.definitions.checks.forms import check_forms
from leadflow.definitions.checks.ids import check_ids
from leadflow.definitions.checks.lists import check_lists
from leadflow.definitions.checks.scoring import check_scoring
from leadflow.definitions.checks.sync import check_sync_rules

if TYPE_CHECKING:
    from leadflow.definitions.errors import Problem

__all__ = ["check_bundle"]


def check_bundle(
    bundle: Definitions,
    *,
    positions: Mapping[str, Sequence[int]] | None = None,
    opaque: Mapping[str, set[str]] | None = None,
) -> list[Problem]:
    """Every cross-reference problem in ``bundle``, in section order."""
    checker = Checker(bundle, positions or {}, opaque or {})
    check_ids(checker)
    check_campaigns(checker)
    check_forms(checker)
    check_scoring(checker)
    check_lists(checker)
    check_flows(checker)
    check_sync_rules(checker)
    check_channel_keys(checker)
    check_connectors(checker)
    return checker.problems
