"""Does this happening start this flow? One small test per trigger kind, and the date-field dates.

The process function already finds candidate flows by trigger kind (``Bundle.flows_with_trigger``);
these tests decide among them. ``enroll`` then applies the re-entry policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadflow.definitions.flows import Flow
from leadflow.definitions.scoring import Scoring
from leadflow.definitions.triggers import (
    ActivityTrigger,
    CrmMemberStatusTrigger,
    DateField,
    DateFieldTrigger,
    FormSubmittedTrigger,
    ListJoinedTrigger,
    ScoreReachedTrigger,
    TagAddedTrigger,
)
from leadflow.domain.activities import Activity
from leadflow.domain.conditions import holds
from leadflow.domain.nurture.calendar import at_wall
from leadflow.domain.nurture.dates import date_value
from leadflow.domain.state import ContactState
from leadflow.ids import stable_id


@dataclass(frozen=True, slots=True)
class Happening:
    """What just happened to a contact; set what applies."""

    activity: Activity | None = None
    form_id: str | None = None
    tags_added: frozenset[str] = frozenset()
    score_before: int | None = None
    score_after: int | None = None
    lists_joined: frozenset[str] = frozenset()
    crm_campaign: str | None = None
    crm_status: str | None = None


def starts(flow: Flow, happening: Happening, state: ContactState, scoring: Scoring | None = None) -> bool:
    """Whether ``happening`` is this flow's trigger (date fields come round through ``date_start``)."""
    if not flow.enabled:
        return False
    match flow.trigger:
        case FormSubmittedTrigger(form_submitted=form_id):
            return happening.form_id == form_id
        case TagAddedTrigger(tag_added=tag):
            return tag in happening.tags_added
        case ScoreReachedTrigger(score_reached=target):
            before, after = happening.score_before, happening.score_after
            return before is not None and after is not None and before < target <= after
        case ListJoinedTrigger(list_joined=list_id):
            return list_id in happening.lists_joined
        case CrmMemberStatusTrigger(crm_member_status=wanted):
            return happening.crm_campaign == wanted.campaign and (
                wanted.status is None or happening.crm_status == wanted.status
            )
        case ActivityTrigger(activity=condition):
            return happening.activity is not None and holds(
                condition, state, activity=happening.activity, scoring=scoring
            )
        case DateFieldTrigger():
            return False
    return False  # pragma: no cover


def date_start(spec: DateField, value: object, today: date, zone: ZoneInfo) -> datetime | None:
    """When a date-field enrollment starts today (at ``spec.time`` in the contact's zone), or None
    when today is not the day. ``today`` is the contact's local date."""
    day = date_value(value)
    if day is None:
        return None
    if spec.yearly:
        # the start day may fall in the year before the anniversary (days_before across New Year)
        starts_on = {spec.start_day(day, today.year), spec.start_day(day, today.year + 1)}
    else:
        starts_on = {day - timedelta(days=spec.days_before)}
    if today not in starts_on:
        return None
    return at_wall(today, spec.time, zone)


def date_trigger_id(contact_id: str, flow_id: str, day: date) -> str:
    """The id of the synthetic activity that starts a date-field enrollment: one per day and flow,
    so a re-run of the daily query enrolls nobody twice (``enroll`` refuses ``same_trigger``)."""
    return stable_id("act", "date_field", contact_id, flow_id, day.isoformat())
