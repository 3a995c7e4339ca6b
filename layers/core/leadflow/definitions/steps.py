"""Flow steps. Each step is ``{id, <one action key>: ...}`` plus where to go next.

A step names its successor with ``next`` (or ``then``/``else`` where it decides, ``goto`` where it
only jumps); ``end`` finishes the flow; without one it falls through to the following step.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, model_validator

from leadflow.definitions.actions import CrmMembership
from leadflow.definitions.activities import ActivityType
from leadflow.definitions.base import (
    END,
    VARIANT_PREFIX,
    DefinitionModel,
    DisplayName,
    Identifier,
    ScalarValue,
    Slug,
    TagName,
    one_of_keys,
    variant,
)
from leadflow.definitions.conditions import Condition
from leadflow.definitions.durations import ClockTime, Duration, Weekday
from leadflow.definitions.lifecycle import Stage


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
    UPDATE = "update"
    ADD_TO_LIST = "add_to_list"
    ADD_TO_CRM_CAMPAIGN = "add_to_crm_campaign"
    SALES_TASK = "sales_task"
    GOTO = "goto"
    END = "end"


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


class WaitBestTime(DefinitionModel):
    """Wait for this contact's best send time (the hour of the week they usually engage)."""

    send_time: Annotated[Literal["best"], Field(description="best: the contact's most engaged hour")]


def _wait_shape(value: Any) -> str | None:
    if isinstance(value, (str, timedelta)):
        return VARIANT_PREFIX + "duration"
    if isinstance(value, WaitBestTime) or (isinstance(value, dict) and "send_time" in value):
        return VARIANT_PREFIX + "best"
    if isinstance(value, (dict, WaitUntil)):
        return VARIANT_PREFIX + "until"
    return None


WaitSpec = Annotated[
    Annotated[Duration, variant("duration")]
    | Annotated[WaitUntil, variant("until")]
    | Annotated[WaitBestTime, variant("best")],
    Discriminator(
        _wait_shape,
        custom_error_type="invalid_wait",
        custom_error_message='wait takes a duration such as 2d, {until: {weekday: thu, time: "22:00"}}, '
        "or {send_time: best}",
    ),
]


class WaitStep(_Step):
    """Pause for a duration, until a weekday and time, or until the contact's best send time."""

    kind: ClassVar[StepKind] = StepKind.WAIT
    waits: ClassVar[bool] = True
    wait: Annotated[
        WaitSpec, Field(description="a duration (2d), {until: {weekday, time}}, or {send_time: best}")
    ]
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


# ---- wait_for


class WaitFor(DefinitionModel):
    activity: Annotated[ActivityType, Field(description="the activity to wait for, such as email_open")]
    name: Annotated[
        str | None,
        Field(min_length=1, description="custom only: the event name, such as purchase"),
    ] = None
    of_step: Annotated[
        Slug | None,
        Field(description="for email activities: the send_email step whose email it must be"),
    ] = None
    same: Annotated[
        list[Identifier] | None,
        Field(
            min_length=1,
            description="keyed wait: these properties of the awaited activity must equal the same "
            "properties of the activity that enrolled the contact, such as [cart_id]",
        ),
    ] = None
    properties: Annotated[
        dict[str, ScalarValue] | None,
        Field(description="properties the awaited activity must have, with these values"),
    ] = None
    within: Annotated[Duration, Field(description="how long to wait before giving up (then else)")]

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.name is not None and self.activity is not ActivityType.CUSTOM:
            raise ValueError(f"name only applies to activity custom, not {self.activity}")
        if self.same is not None and len(set(self.same)) != len(self.same):
            raise ValueError("same lists a property twice")
        return self


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


# ---- update, add_to_list, add_to_crm_campaign


def _campaign_shorthand(value: Any) -> Any:
    """``add_to_crm_campaign: crm-x`` is short for ``{campaign: crm-x}``, as in form actions."""
    return {"campaign": value} if isinstance(value, str) else value


class Update(DefinitionModel):
    """Changes to the contact; at least one key."""

    score: Annotated[
        int | None,
        Field(ge=-10_000, le=10_000, description="points to add (negative to take away), such as 10"),
    ] = None
    add_tags: Annotated[list[TagName] | None, Field(min_length=1, description="tags to add")] = None
    remove_tags: Annotated[list[TagName] | None, Field(min_length=1, description="tags to remove")] = None
    fields: Annotated[
        dict[Identifier, ScalarValue] | None,
        Field(min_length=1, description="contact fields to set, such as {plan: pro}"),
    ] = None
    stage: Annotated[
        Stage | None, Field(description="move the lifecycle stage forward to this (never back)")
    ] = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not any((self.score, self.add_tags, self.remove_tags, self.fields, self.stage)):
            raise ValueError(
                "update needs at least one of score (not 0), add_tags, remove_tags, fields, stage"
            )
        both = set(self.add_tags or ()) & set(self.remove_tags or ())
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: added and removed in the same update")
        return self


class UpdateStep(_Step):
    """Change the contact: score, tags, fields or lifecycle stage."""

    kind: ClassVar[StepKind] = StepKind.UPDATE
    update: Update
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


class AddToListStep(_Step):
    """Add the contact to a static list."""

    kind: ClassVar[StepKind] = StepKind.ADD_TO_LIST
    add_to_list: Annotated[Slug, Field(description="a static list id")]
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


class AddToCrmCampaignStep(_Step):
    """Make the contact a member of a CRM campaign (with a status, or the campaign's default)."""

    kind: ClassVar[StepKind] = StepKind.ADD_TO_CRM_CAMPAIGN
    add_to_crm_campaign: Annotated[
        CrmMembership,
        BeforeValidator(_campaign_shorthand),
        Field(description="{campaign, status}, or just the campaign id for its default status"),
    ]
    next: Annotated[Target | None, Field(description="the following step, or end")] = None


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


# ---- goto, end


class GotoStep(_Step):
    """Jump to another step (a loop back must pass a wait: the checks refuse one that does not)."""

    kind: ClassVar[StepKind] = StepKind.GOTO
    goto: Annotated[Target, Field(description="the step to go to")]

    def exits(self) -> list[tuple[str, str | None]]:
        return [("goto", self.goto)]


class EndStep(_Step):
    """Finish the flow here, with a reason for reports."""

    kind: ClassVar[StepKind] = StepKind.END
    end: Annotated[
        Literal[True] | Annotated[str, Field(min_length=1, max_length=200)],
        Field(description="true, or a reason for reports such as converted"),
    ]

    def exits(self) -> list[tuple[str, str | None]]:
        return []

    @property
    def reason(self) -> str:
        return self.end if isinstance(self.end, str) else "end_step"


STEP_KEYS = tuple(kind.value for kind in StepKind)

Step = Annotated[
    Annotated[SendEmailStep, variant(StepKind.SEND_EMAIL)]
    | Annotated[WaitStep, variant(StepKind.WAIT)]
    | Annotated[WaitForStep, variant(StepKind.WAIT_FOR)]
    | Annotated[BranchStep, variant(StepKind.BRANCH)]
    | Annotated[UpdateStep, variant(StepKind.UPDATE)]
    | Annotated[AddToListStep, variant(StepKind.ADD_TO_LIST)]
    | Annotated[AddToCrmCampaignStep, variant(StepKind.ADD_TO_CRM_CAMPAIGN)]
    | Annotated[SalesTaskStep, variant(StepKind.SALES_TASK)]
    | Annotated[GotoStep, variant(StepKind.GOTO)]
    | Annotated[EndStep, variant(StepKind.END)],
    one_of_keys(STEP_KEYS, "a step"),
    Field(description="a step: id plus one of " + ", ".join(STEP_KEYS)),
]
