"""Does an activity wake a waiting enrollment? The match of an activity with an ``Awaiting`` spec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadflow.definitions.flows import Flow
from leadflow.definitions.steps import WaitForStep
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.enrollment import Awaiting, Enrollment


def aware(moment: datetime) -> datetime:
    """Activities carry aware UTC times; one without a zone is read as UTC rather than failing."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def same_value(expected: Any, actual: Any) -> bool:
    """Key values compare as text (a cart id may arrive as 42 once and "42" the next time);
    booleans compare as themselves."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if actual is None:
        return False
    return str(expected) == str(actual)


def awaiting_for(step: WaitForStep, enrollment: Enrollment, since: Any) -> Awaiting:
    """The spec of what ``step`` waits for, with the key values taken from the enrolling activity."""
    spec = step.wait_for
    keys: dict[str, Any] = {}
    missing: list[str] = []
    for name in spec.same or []:
        value = enrollment.trigger.get(name)
        if isinstance(value, str | int | float | bool) and value != "":
            keys[name] = value
        else:
            missing.append(name)
    message: str | None = None
    message_missing = False
    if spec.of_step is not None:
        visit = enrollment.visits.get(spec.of_step, 0)
        message = enrollment.effect_id(spec.of_step, visit) if visit else None
        message_missing = not visit
    return Awaiting(
        step_id=step.id,
        activity=spec.activity.value,
        since=since,
        name=spec.name,
        message=message,
        message_missing=message_missing,
        properties=dict(spec.properties or {}),
        keys=keys,
        missing_keys=missing,
    )


def matches(awaiting: Awaiting, activity: Activity) -> bool:
    """Type, name, email (of_step), fixed properties and keys must all agree; an activity from
    before the wait began never matches, nor does anything when a key or the email is missing."""
    if activity.type != awaiting.activity or aware(activity.occurred_at) < awaiting.since:
        return False
    if awaiting.missing_keys or awaiting.message_missing:
        return False
    props = activity.properties
    if awaiting.name is not None and props.get("name") != awaiting.name:
        return False
    if awaiting.message is not None and _message_of(props) != awaiting.message:
        return False
    if any(not same_value(value, props.get(key)) for key, value in awaiting.properties.items()):
        return False
    return all(same_value(value, props.get(key)) for key, value in awaiting.keys.items())


def interesting_types(flow: Flow, enrollment: Enrollment) -> set[str]:
    """The activity types the runner should deliver to this enrollment as wakes: what it awaits,
    and what its ``exit_when`` looks for. Anything else cannot change it."""
    types: set[str] = set()
    if enrollment.awaiting is not None:
        types.add(enrollment.awaiting.activity)
    if flow.exit_when is not None and flow.exit_when.activity is not None:
        types.add(flow.exit_when.activity.value)
    return types


def _message_of(properties: dict) -> object:
    """Which email an open or click was on. The sender uses the step's effect id as the message id,
    and the tracker records the token's ``message_id``; ``effect_id`` is read too."""
    return properties.get("effect_id", properties.get("message_id"))
