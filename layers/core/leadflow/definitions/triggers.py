"""Flow triggers: what enrolls a contact. Each is a one-key mapping, such as ``{form_submitted: x}``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, field_validator

from leadflow.definitions.activities import ActivityType
from leadflow.definitions.base import DefinitionModel, Identifier, Slug, TagName, one_of_keys, variant
from leadflow.definitions.conditions import Condition
from leadflow.definitions.durations import ClockTime


class TriggerKind(StrEnum):
    """How engines find the flows to start: by this kind, then by its target."""

    FORM_SUBMITTED = "form_submitted"
    TAG_ADDED = "tag_added"
    SCORE_REACHED = "score_reached"
    LIST_JOINED = "list_joined"
    CRM_MEMBER_STATUS = "crm_member_status"
    DATE_FIELD = "date_field"
    ACTIVITY = "activity"


class FormSubmittedTrigger(DefinitionModel):
    """A submission of this form."""

    kind: ClassVar[TriggerKind] = TriggerKind.FORM_SUBMITTED
    form_submitted: Annotated[Slug, Field(description="a form id")]


class TagAddedTrigger(DefinitionModel):
    """The contact gets this tag."""

    kind: ClassVar[TriggerKind] = TriggerKind.TAG_ADDED
    tag_added: Annotated[TagName, Field(description="a tag")]


class ScoreReachedTrigger(DefinitionModel):
    """The contact's score rises to this value or above (from below it)."""

    kind: ClassVar[TriggerKind] = TriggerKind.SCORE_REACHED
    score_reached: Annotated[int, Field(description="a score")]


class ListJoinedTrigger(DefinitionModel):
    """The contact joins this list (a static list, or a segment as it is evaluated)."""

    kind: ClassVar[TriggerKind] = TriggerKind.LIST_JOINED
    list_joined: Annotated[Slug, Field(description="a list id")]


class CrmStatus(DefinitionModel):
    """A CRM campaign and, optionally, one of its member statuses."""

    campaign: Annotated[Slug, Field(description="a CRM campaign id")]
    status: Annotated[
        str | None, Field(min_length=1, description="a member status; left out: any status")
    ] = None


class CrmMemberStatusTrigger(DefinitionModel):
    """A CRM campaign membership gets this status (a sales-side event, such as Attended)."""

    kind: ClassVar[TriggerKind] = TriggerKind.CRM_MEMBER_STATUS
    crm_member_status: Annotated[CrmStatus, Field(description="{campaign, status}")]


class DateField(DefinitionModel):
    """A date in a contact field, such as a birthday or a renewal date."""

    field: Annotated[Identifier, Field(description="the contact field holding a YYYY-MM-DD date")]
    yearly: Annotated[bool, Field(description="every year on the date's day and month (birthdays)")] = True
    days_before: Annotated[int, Field(ge=0, le=365, description="start this many days before the date")] = 0
    time: Annotated[ClockTime, Field(description='at this time in the contact\'s time zone, "HH:MM"')] = (
        dt.time(9, 0)
    )

    def start_day(self, value: dt.date, year: int) -> dt.date:
        """The day this date's enrollment starts in ``year`` (yearly): the anniversary less
        ``days_before``. A 29 February date comes round on 28 February in other years."""
        try:
            anniversary = value.replace(year=year)
        except ValueError:
            anniversary = dt.date(year, 2, 28)
        return anniversary - dt.timedelta(days=self.days_before)

    def index_key(self, value: dt.date) -> str:
        """``"MM-DD"`` of the start day: the key of the month-day index the runner queries daily
        (never a scan). One-off (``yearly: false``) dates are indexed the same way; the runner
        compares the year as well. A 29 February date is indexed under its non-leap start day."""
        return self.start_day(value, 2025).strftime("%m-%d")  # 2025: a common year


class DateFieldTrigger(DefinitionModel):
    """A date in a contact field comes round (found daily through a month-day index)."""

    kind: ClassVar[TriggerKind] = TriggerKind.DATE_FIELD
    date_field: Annotated[DateField, Field(description="{field, yearly, days_before, time}")]


class ActivityTrigger(DefinitionModel):
    """An activity matching a condition: ``{activity: {activity: custom, name: cart_abandoned}}``."""

    kind: ClassVar[TriggerKind] = TriggerKind.ACTIVITY
    activity: Annotated[Condition, Field(description="a condition that includes activity")]

    @field_validator("activity")
    @classmethod
    def _indexed(cls, value: Condition) -> Condition:
        if value.activity is None:
            raise ValueError(
                "an activity trigger needs activity (such as custom): triggers are indexed by it"
            )
        return value

    @property
    def activity_type(self) -> ActivityType:
        assert self.activity.activity is not None  # guaranteed by validation
        return self.activity.activity


TRIGGER_KEYS = tuple(kind.value for kind in TriggerKind)

Trigger = Annotated[
    Annotated[FormSubmittedTrigger, variant(TriggerKind.FORM_SUBMITTED)]
    | Annotated[TagAddedTrigger, variant(TriggerKind.TAG_ADDED)]
    | Annotated[ScoreReachedTrigger, variant(TriggerKind.SCORE_REACHED)]
    | Annotated[ListJoinedTrigger, variant(TriggerKind.LIST_JOINED)]
    | Annotated[CrmMemberStatusTrigger, variant(TriggerKind.CRM_MEMBER_STATUS)]
    | Annotated[DateFieldTrigger, variant(TriggerKind.DATE_FIELD)]
    | Annotated[ActivityTrigger, variant(TriggerKind.ACTIVITY)],
    one_of_keys(TRIGGER_KEYS, "a trigger"),
    Field(description="what enrolls a contact: one of " + ", ".join(TRIGGER_KEYS)),
]
