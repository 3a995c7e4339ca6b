"""Conditions: plain data that says when a rule fires, who a segment holds, when a flow ends.

One ``Condition`` model serves ``when``, ``where``, ``exit_when`` and a branch's ``if``. Every
key that is set must hold (AND). Activity keys (``activity``, ``form``, ``url``, ...) look at the
activity being processed; the others look at the contact. Engines index by ``activity`` first,
then test the rest, so matching never loops over every rule.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator

from leadflow.definitions.activities import ActivityType
from leadflow.definitions.base import DefinitionModel, Identifier, ScalarValue, Slug, TagName
from leadflow.definitions.lifecycle import Stage, Temperature


class CompareOp(StrEnum):
    """How a contact field is compared with a value."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    EXISTS = "exists"


_ORDERING_OPS = {CompareOp.GT, CompareOp.GTE, CompareOp.LT, CompareOp.LTE}


class FieldComparison(DefinitionModel):
    """A test on one contact field, such as ``{name: country, op: eq, value: DE}``."""

    name: Annotated[Identifier, Field(description="the contact field, such as country or company")]
    op: Annotated[CompareOp, Field(description="eq, ne, gt, gte, lt, lte, contains or exists")] = CompareOp.EQ
    value: Annotated[
        ScalarValue | None,
        Field(description="what to compare with; for exists, true (default) or false"),
    ] = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Self:
        if self.op is CompareOp.EXISTS:
            if self.value is not None and not isinstance(self.value, bool):
                raise ValueError("op exists takes value true or false (or none, meaning true)")
        elif self.value is None:
            raise ValueError(f"op {self.op} needs a value")
        elif self.op in _ORDERING_OPS and isinstance(self.value, bool):
            raise ValueError(f"op {self.op} compares numbers or dates, not true/false")
        elif self.op is CompareOp.CONTAINS and not isinstance(self.value, str):
            raise ValueError("op contains needs a text value")
        return self


class Channel(StrEnum):
    """A channel a contact can be reached on, for channel recommendation."""

    EMAIL = "email"
    PHONE = "phone"


class RateBound(DefinitionModel):
    """A test on an engagement rate (0 to 1): ``{below: 0.05}``, ``{at_least: 0.2}`` or both."""

    below: Annotated[float | None, Field(gt=0, le=1, description="the rate is less than this")] = None
    at_least: Annotated[float | None, Field(ge=0, le=1, description="the rate is this or more")] = None

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.below is None and self.at_least is None:
            raise ValueError("give below, at_least or both, such as {below: 0.05}")
        if self.below is not None and self.at_least is not None and self.below <= self.at_least:
            raise ValueError("below must be greater than at_least, or nothing can match")
        return self


def _one_or_many(value: Any) -> Any:
    """``field: {...}`` and ``field: [{...}, ...]`` both mean a list of comparisons."""
    return [value] if isinstance(value, dict) else value


ACTIVITY_KEYS: tuple[str, ...] = ("activity", "form", "url", "asset_type", "topic", "name", "properties")
"""Condition keys that test the activity being processed rather than the contact."""


class Condition(DefinitionModel):
    """A test on an activity and/or a contact; every key given must hold."""

    # -- the activity
    activity: Annotated[ActivityType | None, Field(description="the activity type (the index key)")] = None
    form: Annotated[Slug | None, Field(description="form_submit only: the form's id")] = None
    url: Annotated[
        str | None,
        Field(
            min_length=1, description='a glob on the activity URL: * matches anything, such as "*/pricing*"'
        ),
    ] = None
    asset_type: Annotated[str | None, Field(description="the activity's asset_type, such as whitepaper")] = (
        None
    )
    topic: Annotated[str | None, Field(description="the activity's topic")] = None
    name: Annotated[str | None, Field(description="custom only: the event name, such as cart_abandoned")] = (
        None
    )
    properties: Annotated[
        dict[str, ScalarValue] | None,
        Field(description="activity properties that must equal these values"),
    ] = None
    # -- the contact
    score_at_least: Annotated[int | None, Field(description="the score is this or more")] = None
    score_below: Annotated[int | None, Field(description="the score is less than this")] = None
    has_tag: Annotated[TagName | None, Field(description="the contact has this tag")] = None
    stage_in: Annotated[
        list[Stage] | None,
        Field(min_length=1, description="the lifecycle stage is one of these"),
    ] = None
    temperature: Annotated[Temperature | None, Field(description="cold, warm or hot")] = None
    ma_campaign: Annotated[Slug | None, Field(description="the contact's MA campaign is this one")] = None
    crm_campaign: Annotated[
        Slug | None, Field(description="the contact is a member of this CRM campaign")
    ] = None
    status: Annotated[
        str | None,
        Field(min_length=1, description="with crm_campaign: the membership has this status"),
    ] = None
    in_list: Annotated[Slug | None, Field(description="the contact is in this list")] = None
    subscribed: Annotated[
        bool | None, Field(description="the contact may (true) or may not (false) get email")
    ] = None
    field: Annotated[
        list[FieldComparison] | None,
        BeforeValidator(_one_or_many),
        Field(min_length=1, description="contact field comparisons, one or a list; all must hold"),
    ] = None
    recommended_channel: Annotated[
        Channel | None,
        Field(
            description="the channel recommended for this contact is this one: their stated preference, "
            "else the channel they engage with most (engagement / messages over 6 months)"
        ),
    ] = None
    channel_engagement: Annotated[
        dict[Channel, RateBound] | None,
        Field(
            min_length=1,
            description="engagement / messages received over 6 months, per channel: "
            "{email: {below: 0.05}}; a channel with no messages matches neither bound",
        ),
    ] = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.status is not None and self.crm_campaign is None:
            raise ValueError("status needs crm_campaign: the status of a membership in which campaign?")
        if self.form is not None and self.activity not in (None, ActivityType.FORM_SUBMIT):
            raise ValueError(f"form only applies to activity form_submit, not {self.activity}")
        if self.name is not None and self.activity not in (None, ActivityType.CUSTOM):
            raise ValueError(f"name only applies to activity custom, not {self.activity}")
        if (
            self.score_at_least is not None
            and self.score_below is not None
            and self.score_below <= self.score_at_least
        ):
            raise ValueError("score_below must be greater than score_at_least, or nothing can match")
        if self.activity is None and self.tests_activity:
            keys = self.activity_keys_set
            raise ValueError(
                f"{', '.join(keys)} {'tests' if len(keys) == 1 else 'test'} an activity's properties: "
                "add activity (such as page_view) to say which activity"
            )
        return self

    @property
    def activity_keys_set(self) -> list[str]:
        """The activity keys this condition sets (``activity`` itself included)."""
        return [key for key in ACTIVITY_KEYS if getattr(self, key) is not None]

    @property
    def tests_activity(self) -> bool:
        """Whether this condition looks at an activity, not only at the contact."""
        return bool(self.activity_keys_set)

    @property
    def comparisons(self) -> list[FieldComparison]:
        """``field`` as a list, empty when not set."""
        return list(self.field or [])
