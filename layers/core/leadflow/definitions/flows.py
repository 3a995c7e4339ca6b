"""Flows: nurture programmes. A trigger enrolls, steps run until a wait, ``exit_when`` ends early."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Discriminator, Field, PrivateAttr, model_validator

from leadflow.definitions.base import END, VARIANT_PREFIX, DefinitionModel, DisplayName, Slug, variant
from leadflow.definitions.conditions import Condition
from leadflow.definitions.durations import ClockTime, Duration
from leadflow.definitions.steps import Step
from leadflow.definitions.triggers import Trigger


class ReentryMode(StrEnum):
    NEVER = "never"
    ALWAYS = "always"


class ReentryAfter(DefinitionModel):
    """A contact may enroll again once this long has passed since their last enrollment started."""

    after: Annotated[Duration, Field(description="such as 90d")]


def _reentry_text(value: Any) -> Any:
    """Accept ``"after: 90d"`` and ``"after 90d"`` (what people type in YAML) as ``{after: 90d}``."""
    if isinstance(value, str):
        match = re.match(r"^\s*after\s*:?\s*(\S.*)$", value)
        if match:
            return {"after": match[1]}
    return value


def _reentry_shape(value: Any) -> str | None:
    if isinstance(value, (str, ReentryMode)):
        return VARIANT_PREFIX + "mode"
    if isinstance(value, (dict, ReentryAfter)):
        return VARIANT_PREFIX + "after"
    return None


Reentry = Annotated[
    Annotated[ReentryMode, variant("mode")] | Annotated[ReentryAfter, variant("after")],
    Discriminator(
        _reentry_shape,
        custom_error_type="invalid_reentry",
        custom_error_message="reentry is never, always, or {after: 90d}",
    ),
    BeforeValidator(_reentry_text),
]


class OnChange(StrEnum):
    """What a new version of a flow does to enrollments already in it."""

    MOVE_IF_STEP_EXISTS = "move_if_step_exists"
    """Move to the new version when the current step still exists there with the same kind; else
    finish on the version it started on."""
    KEEP_VERSION = "keep_version"
    """Finish on the version it started on; only new enrollments get the new version."""


class QuietHours(DefinitionModel):
    """No email between ``start`` and ``end`` in the contact's time zone (may wrap midnight)."""

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("start and end are the same time")
        return self


class Flow(DefinitionModel):
    """A nurture flow."""

    id: Annotated[Slug, Field(description="unique among flows")]
    name: Annotated[DisplayName | None, Field(description="the flow's name in reports")] = None
    campaign: Annotated[Slug | None, Field(description="the MA campaign the flow belongs to")] = None
    enabled: Annotated[
        bool, Field(description="a disabled flow enrolls nobody; running enrollments pause")
    ] = True
    trigger: Annotated[Trigger, Field(description="what enrolls a contact")]
    reentry: Annotated[
        Reentry,
        Field(description='never (default), always, or {after: 90d} (also written "after: 90d")'),
    ] = ReentryMode.NEVER
    exit_when: Annotated[
        Condition | None, Field(description="the goal: leave the flow as soon as it holds")
    ] = None
    quiet_hours: Annotated[
        QuietHours | None,
        Field(description='{start: "20:00", end: "08:00"}: hold email in that window'),
    ] = None
    on_change: Annotated[
        OnChange,
        Field(
            description="when a new version is applied: move_if_step_exists (default) moves running "
            "enrollments whose current step still exists; keep_version lets them finish on their version"
        ),
    ] = OnChange.MOVE_IF_STEP_EXISTS
    steps: Annotated[list[Step], Field(min_length=1, description="run in order unless a step names another")]

    _by_id: dict[str, Step] = PrivateAttr(default_factory=dict)
    _position: dict[str, int] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for position, step in enumerate(self.steps):
            self._by_id.setdefault(step.id, step)
            self._position.setdefault(step.id, position)

    def step(self, step_id: str) -> Step | None:
        """The step with this id, if the flow has one (it may have been removed by a newer version)."""
        return self._by_id.get(step_id)

    @property
    def first_step(self) -> Step:
        return self.steps[0]

    def following(self, step_id: str) -> str:
        """The step after ``step_id`` in the list, or ``end`` after the last: the fall-through successor."""
        position = self._position[step_id] + 1
        return self.steps[position].id if position < len(self.steps) else END

    def successor(self, step: Step, named: str | None) -> str:
        """Where to go from ``step`` given the successor it names (``next``/``then``/``else``) or ``None``."""
        return named if named is not None else self.following(step.id)

    def successors(self, step: Step) -> list[str]:
        """Every step id (or ``end``) reachable in one move from ``step``."""
        return [self.successor(step, named) for _, named in step.exits()]

    @property
    def reentry_after(self) -> timedelta | None:
        """The reentry period, when reentry is ``{after: ...}``."""
        return self.reentry.after if isinstance(self.reentry, ReentryAfter) else None
