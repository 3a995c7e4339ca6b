"""Flow steps. Each step is ``{id, <one action key>: ...}`` plus where to go next.

A step names its successor with ``next`` (or ``then``/``else`` where it decides); ``end`` finishes
the flow; without one it falls through to the following step.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Discriminator, Field

from leadflow.definitions.activities import ActivityType
from leadflow.definitions.base import (
    END,
    VARIANT_PREFIX,
    DefinitionModel,
    DisplayName,
    Slug,
    one_of_keys,
    variant,
)
from leadflow.definitions.conditions import Condition
from leadflow.definitions.durations import ClockTime, Duration, Weekday


def _not_end(value: str) -> str:
    if value == END:
        raise ValueError(f'"{END}" is reserved: it is how a step finishes the flow')
    return value


StepId = Annotated[Slug, AfterValidator(_not_end), Field(description="unique within the flow; not end")]
Target = Annotated[Slug, Field(description="a step id of the same flow, or end")]


class StepKind(StrEnum):
    SEND_EMAIL = "send_email"
    WAIT = "wait"
    WAIT_FOR = "wait_for"
    BRANCH = "branch"
    SALES_TASK = "sales_task"


class _Step(DefinitionModel):
    kind: ClassVar[StepKind]
    waits: ClassVar[bool] = False
    """Whether the step pauses the enrollment (so a loop through it is not endless)."""

    id: StepId
    name: Annotated[DisplayName | None, Field(description="a label for reports")] = None

    def exits(self) -> list[tuple[str, str | None]]:
        """(path below the step, named successor or None for fall-through) for each way out."""
        return [("next", getattr(self, "next", None))]


# ---- send_email


class SendEmail(DefinitionModel):
    template: Annotated[Slug, Field(description="an email template id")]
    send_time: Annotated[
        Literal["best"] | None,
        Field(
            description="best: wait for the hour this contact usually opens email (learned from past opens)"
        ),
    ] = None


class SendEmailStep(_Step):
    """Send a template to the contact (never to an unsubscribed, bounced or complained address)."""

    kind: ClassVar[StepKind] = StepKind.SEND_EMAIL
    send_email: SendEmail
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


# ---- wait


class Until(DefinitionModel):
    weekday: Annotated[Weekday | None, Field(description="mon..sun; left out: the next day at that time")] = (
        None
    )
    time: Annotated[ClockTime, Field(description='"HH:MM" in the contact\'s time zone')]


class WaitUntil(DefinitionModel):
    until: Annotated[Until, Field(description='{weekday: thu, time: "22:00"}')]


def _wait_shape(value: Any) -> str | None:
    if isinstance(value, (str, timedelta)):
        return VARIANT_PREFIX + "duration"
    if isinstance(value, (dict, WaitUntil)):
        return VARIANT_PREFIX + "until"
    return None


WaitSpec = Annotated[
    Annotated[Duration, variant("duration")] | Annotated[WaitUntil, variant("until")],
    Discriminator(
        _wait_shape,
        custom_error_type="invalid_wait",
        custom_error_message='wait takes a duration such as 2d, or {until: {weekday: thu, time: "22:00"}}',
    ),
]


class WaitStep(_Step):
    """Pause for a duration, or until a weekday and time."""

    kind: ClassVar[StepKind] = StepKind.WAIT
    waits: ClassVar[bool] = True
    wait: Annotated[WaitSpec, Field(description="a duration (2d), or {until: {weekday, time}}")]
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


# ---- wait_for


class WaitFor(DefinitionModel):
    activity: Annotated[ActivityType, Field(description="the activity to wait for, such as email_open")]
    of_step: Annotated[
        Slug | None,
        Field(description="for email activities: the send_email step whose email it must be"),
    ] = None
    within: Annotated[Duration, Field(description="how long to wait before giving up (then else)")]


class WaitForStep(_Step):
    """Wait until the contact does something, or until time runs out; go to ``then`` or ``else``."""

    kind: ClassVar[StepKind] = StepKind.WAIT_FOR
    waits: ClassVar[bool] = True
    wait_for: WaitFor
    then: Annotated[Target | None, Field(description="where to go when it happens")] = None
    else_: Annotated[Target | None, Field(alias="else", description="where to go when time runs out")] = None

    def exits(self) -> list[tuple[str, str | None]]:
        return [("then", self.then), ("else", self.else_)]


# ---- branch


class Branch(DefinitionModel):
    if_: Annotated[Condition, Field(alias="if", description="a condition on the contact")]
    then: Annotated[Target | None, Field(description="where to go when it holds")] = None
    else_: Annotated[Target | None, Field(alias="else", description="where to go when it does not")] = None


class BranchStep(_Step):
    """Go one way or another, depending on the contact now."""

    kind: ClassVar[StepKind] = StepKind.BRANCH
    branch: Branch

    def exits(self) -> list[tuple[str, str | None]]:
        return [("branch.then", self.branch.then), ("branch.else", self.branch.else_)]


# ---- sales_task


class TaskChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    MEETING = "meeting"
    SOCIAL = "social"
    OTHER = "other"


class SalesTask(DefinitionModel):
    channel: Annotated[TaskChannel, Field(description="phone, email, meeting, social or other")] = (
        TaskChannel.PHONE
    )
    note: Annotated[str | None, Field(max_length=2000, description="what sales should know or do")] = None
    due_in: Annotated[Duration | None, Field(description="the task is due this long after it is created")] = (
        None
    )


class SalesTaskStep(_Step):
    """Hand a task to sales (emitted as a domain event for the CRM connector)."""

    kind: ClassVar[StepKind] = StepKind.SALES_TASK
    sales_task: SalesTask
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


STEP_KEYS = tuple(kind.value for kind in StepKind)

Step = Annotated[
    Annotated[SendEmailStep, variant(StepKind.SEND_EMAIL)]
    | Annotated[WaitStep, variant(StepKind.WAIT)]
    | Annotated[WaitForStep, variant(StepKind.WAIT_FOR)]
    | Annotated[BranchStep, variant(StepKind.BRANCH)]
    | Annotated[SalesTaskStep, variant(StepKind.SALES_TASK)],
    one_of_keys(STEP_KEYS, "a step"),
    Field(description="a step: id plus one of " + ", ".join(STEP_KEYS)),
]
