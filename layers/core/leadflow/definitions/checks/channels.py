"""Channel keys (``recommended_channel``, ``channel_engagement``) only where channel facts exist.

Only the flow engine knows a contact's channel engagement, so those keys are answered in a flow's
``branch`` and ``exit_when``. Anywhere else (scoring rules, segments, sync rules, a flow's trigger)
they could never hold: refused when applied, rather than silently matching nobody.
"""

from __future__ import annotations

from leadflow.definitions.checks.context import Checker
from leadflow.definitions.conditions import Condition
from leadflow.definitions.triggers import ActivityTrigger

CHANNEL_KEYS = ("recommended_channel", "channel_engagement")


def _refuse(checker: Checker, path: str, condition: Condition | None, where: str) -> None:
    if condition is None:
        return
    for key in CHANNEL_KEYS:
        if getattr(condition, key) is not None:
            checker.add(
                f"{path}.{key}", f"{key} is only known in a flow's branch or exit_when, not in {where}"
            )


def check_channel_keys(checker: Checker) -> None:
    bundle = checker.bundle
    for index, rule in enumerate(bundle.scoring.rules):
        _refuse(checker, f"scoring.rules[{index}].when", rule.when, "a scoring rule")
    for index, contact_list in enumerate(bundle.lists):
        _refuse(checker, f"{checker.at('lists', index)}.where", contact_list.where, "a segment")
    for index, flow in enumerate(bundle.flows):
        if isinstance(flow.trigger, ActivityTrigger):
            _refuse(
                checker, f"{checker.at('flows', index)}.trigger.activity", flow.trigger.activity, "a trigger"
            )
    for index, sync_rule in enumerate(bundle.sync_rules):
        _refuse(checker, f"{checker.at('sync_rules', index)}.when", sync_rule.when, "a sync rule")
