"""Evaluating a definitions ``Condition`` against an activity and a contact: pure, no I/O."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Protocol

from leadflow.domain.state import ContactState
from leadflow.domain.temperature import temperature_for

if TYPE_CHECKING:
    from leadflow.definitions.conditions import Condition, FieldComparison
    from leadflow.definitions.scoring import Scoring
    from leadflow.domain.activities import Activity


class ChannelFacts(Protocol):
    """What a channel condition reads (``nurture.channels.ChannelView`` is one)."""

    @property
    def recommended(self) -> str: ...

    def rate(self, channel: str) -> float | None: ...


def _channels_hold(condition: Condition, channels: ChannelFacts | None) -> bool:
    """Channel keys hold only when the caller knows the contact's channels (a flow's branch does)."""
    if condition.recommended_channel is None and not condition.channel_engagement:
        return True
    if channels is None:
        return False
    if condition.recommended_channel is not None and channels.recommended != condition.recommended_channel:
        return False
    for channel, bound in (condition.channel_engagement or {}).items():
        rate = channels.rate(channel)
        if rate is None:
            return False
        if bound.below is not None and rate >= bound.below:
            return False
        if bound.at_least is not None and rate < bound.at_least:
            return False
    return True


def _activity_holds(condition: Condition, activity: Activity | None, *, url_checked: bool = False) -> bool:
    if not condition.tests_activity:
        return True
    if activity is None or (condition.activity is not None and activity.type != condition.activity):
        return False
    props = activity.properties
    checks: list[tuple[Any, Any]] = [
        (condition.form, props.get("form_id")),
        (condition.asset_type, props.get("asset_type")),
        (condition.topic, props.get("topic")),
        (condition.name, props.get("name")),
    ]
    if any(expected is not None and expected != actual for expected, actual in checks):
        return False
    if condition.url is not None and not url_checked:
        url = str(props.get("url") or activity.context.page_url or "")
        if not fnmatchcase(url.lower(), condition.url.lower()):
            return False
    if condition.properties:
        return all(props.get(key) == value for key, value in condition.properties.items())
    return True


def _compare(comparison: FieldComparison, fields: dict[str, Any]) -> bool:
    op = str(comparison.op)
    present = comparison.name in fields and fields[comparison.name] not in (None, "")
    if op == "exists":
        return present == (comparison.value is not False)
    if not present:
        return op == "ne"
    actual, expected = fields[comparison.name], comparison.value
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "contains":
        return str(expected).casefold() in str(actual).casefold()
    try:
        if op == "gt":
            return actual > expected
        if op == "gte":
            return actual >= expected
        if op == "lt":
            return actual < expected
        return actual <= expected
    except TypeError:
        return False  # a text field compared with a number matches nothing, rather than failing


def _contact_holds(condition: Condition, state: ContactState, scoring: Scoring | None) -> bool:
    if condition.score_at_least is not None and state.score < condition.score_at_least:
        return False
    if condition.score_below is not None and state.score >= condition.score_below:
        return False
    if condition.has_tag is not None and condition.has_tag not in state.tags:
        return False
    if condition.stage_in is not None and state.stage not in condition.stage_in:
        return False
    if condition.temperature is not None:
        bands = scoring.temperature if scoring else None
        if temperature_for(state.score, bands) != condition.temperature:
            return False
    if condition.ma_campaign is not None and state.ma_campaign_id != condition.ma_campaign:
        return False
    if condition.crm_campaign is not None:
        status = state.crm_statuses.get(condition.crm_campaign)
        if status is None or (condition.status is not None and status != condition.status):
            return False
    if condition.in_list is not None and condition.in_list not in state.lists:
        return False
    if condition.subscribed is not None and (state.status == "subscribed") != condition.subscribed:
        return False
    return all(_compare(comparison, state.fields) for comparison in condition.comparisons)


def holds(
    condition: Condition,
    state: ContactState,
    *,
    activity: Activity | None = None,
    scoring: Scoring | None = None,
    url_checked: bool = False,
    channels: ChannelFacts | None = None,
) -> bool:
    """Whether every key the condition sets holds for this activity (if any) and contact.

    ``url_checked`` says the caller already matched the URL glob with a compiled pattern;
    ``channels`` gives the contact's channel engagement (without it, channel keys never hold)."""
    return (
        _activity_holds(condition, activity, url_checked=url_checked)
        and _contact_holds(condition, state, scoring)
        and _channels_hold(condition, channels)
    )
