"""What one domain event adds to the report counters: pure, so a redelivery can be claimed and
counted in one write, and the arithmetic is unit-tested without AWS.

The reports function keeps three families of counters, each sharded by the contact, so a viral
form spreads its writes over :data:`COUNTER_SHARDS` items instead of one:

- CRM campaign figures: ``members`` and one count per member status (how many responded is the
  sum of the statuses the campaign marks ``responded``, read with the definitions);
- MA campaign figures: ``members`` (people who joined by behaviour);
- the funnel: per UTC day, the contacts entering each lifecycle stage, overall and per MA campaign.

Counters are additive, so events of one member may arrive in any order and the sums still come
out right once all have arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadflow.ids import shard_of

COUNTER_SHARDS = 16
#: The funnel's scope that counts every contact, whatever their MA campaign.
OVERALL = "ALL"
MEMBERS = "members"
_STATUS_PREFIX = "s#"

#: The events the reports function consumes (its bus rule's ``detail-type`` list).
COUNTED_EVENTS: tuple[str, ...] = (
    "CrmCampaignMemberAdded",
    "CrmCampaignMemberStatusChanged",
    "CrmCampaignMemberRemoved",
    "ContactCreated",
    "LifecycleStageChanged",
    "MaCampaignJoined",
)

#: Lifecycle stages in order (``definitions.lifecycle.Stage``'s values; a unit test holds them
#: equal). Spelled here so the reports function's cold start does not import the definitions.
STAGES: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
type StageName = Literal["subscriber", "lead", "mql", "sql", "opportunity", "customer"]

_Id = Annotated[str, Field(min_length=1, max_length=128)]
_StatusName = Annotated[str, Field(min_length=1, max_length=64)]


def status_counter(status: str) -> str:
    """The counter of one member status (a status name may hold any character)."""
    return _STATUS_PREFIX + status


def status_of_counter(name: str) -> str | None:
    return name.removeprefix(_STATUS_PREFIX) if name.startswith(_STATUS_PREFIX) else None


class Family(StrEnum):
    CRM = "crm"
    MA = "ma"
    FUNNEL = "funnel"


@dataclass(frozen=True, slots=True)
class CounterUpdate:
    """``adds`` to the counters of one item: a campaign's (CRM, MA) or a day's funnel scope."""

    family: Family
    key: str
    shard: int
    adds: dict[str, int]
    day: date | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """What to count for one event, claimed by ``event_id`` so a redelivery counts nothing."""

    event_id: str
    detail_type: str
    updates: list[CounterUpdate] = field(default_factory=list)


class BusEvent(BaseModel):
    """An EventBridge event as a rule delivers it to SQS (only the fields used here)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    detail_type: Annotated[str, Field(alias="detail-type", min_length=1, max_length=128)]
    source: str
    time: datetime
    detail: dict[str, Any]


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: _Id
    contact_id: _Id
    at: datetime | None = None


class _ContactCreated(_Detail):
    ma_campaign_id: _Id | None = None


class _StageChanged(_Detail):
    from_stage: Annotated[StageName | None, Field(alias="from")] = None
    to_stage: Annotated[StageName, Field(alias="to")]
    ma_campaign_id: _Id | None = None


class _MaJoined(_Detail):
    ma_campaign_id: _Id


class _MemberAdded(_Detail):
    campaign_id: _Id
    status: _StatusName


class _MemberChanged(_Detail):
    campaign_id: _Id
    status: _StatusName
    previous_status: _StatusName | None = None


class _MemberRemoved(_Detail):
    campaign_id: _Id
    previous_status: _StatusName | None = None


class UncountedEventError(ValueError):
    """The event is not one the reports count (the bus rule should not have sent it)."""


def tally(event: BusEvent) -> Tally:
    """The counter updates of one event. Raises pydantic's ``ValidationError`` for a detail
    that lacks what counting needs, and :class:`UncountedEventError` for another event type."""
    kind = event.detail_type
    if kind not in COUNTED_EVENTS:
        raise UncountedEventError(f"{kind} is not counted by the reports")
    if kind == "ContactCreated":
        created = _ContactCreated.model_validate(event.detail)
        day = _day(created.at or event.time)
        updates = _funnel(created, [STAGES[0]], created.ma_campaign_id, day)
        return Tally(created.event_id, kind, updates)
    if kind == "LifecycleStageChanged":
        changed = _StageChanged.model_validate(event.detail)
        day = _day(changed.at or event.time)
        updates = _funnel(changed, entered(changed.from_stage, changed.to_stage), changed.ma_campaign_id, day)
        return Tally(changed.event_id, kind, updates)
    if kind == "MaCampaignJoined":
        joined = _MaJoined.model_validate(event.detail)
        shard = shard_of(joined.contact_id, COUNTER_SHARDS)
        return Tally(
            joined.event_id, kind, [CounterUpdate(Family.MA, joined.ma_campaign_id, shard, {MEMBERS: 1})]
        )
    return _member_tally(kind, event.detail)


def _member_tally(kind: str, detail: dict[str, Any]) -> Tally:
    adds: dict[str, int] = {}
    if kind == "CrmCampaignMemberAdded":
        added = _MemberAdded.model_validate(detail)
        base: _Detail = added
        campaign = added.campaign_id
        adds = {MEMBERS: 1, status_counter(added.status): 1}
    elif kind == "CrmCampaignMemberStatusChanged":
        changed = _MemberChanged.model_validate(detail)
        base, campaign = changed, changed.campaign_id
        adds = {status_counter(changed.status): 1}
        if changed.previous_status is not None:
            previous = status_counter(changed.previous_status)
            adds[previous] = adds.get(previous, 0) - 1
    else:
        removed = _MemberRemoved.model_validate(detail)
        base, campaign = removed, removed.campaign_id
        adds = {MEMBERS: -1}
        if removed.previous_status is not None:
            adds[status_counter(removed.previous_status)] = -1
    adds = {name: value for name, value in adds.items() if value != 0}
    shard = shard_of(base.contact_id, COUNTER_SHARDS)
    updates = [CounterUpdate(Family.CRM, campaign, shard, adds)] if adds else []
    return Tally(base.event_id, kind, updates)


def entered(before: str | None, after: str) -> list[str]:
    """The stages a contact enters moving from ``before`` to ``after``: every stage passed on
    the way counts (a jump from lead to sql enters mql too), so the funnel never narrows
    upwards; a backward move (an admin's) enters none."""
    start = STAGES.index(before) + 1 if before is not None else 0
    return list(STAGES[start : STAGES.index(after) + 1])


def _funnel(detail: _Detail, stages: list[str], ma_campaign: str | None, day: date) -> list[CounterUpdate]:
    if not stages:
        return []
    shard = shard_of(detail.contact_id, COUNTER_SHARDS)
    adds = dict.fromkeys(stages, 1)
    scopes = [OVERALL] + ([ma_campaign] if ma_campaign else [])
    return [CounterUpdate(Family.FUNNEL, scope, shard, dict(adds), day=day) for scope in scopes]


def _day(moment: datetime) -> date:
    """The UTC day an event counts in (a naive time is UTC, as every Leadflow time is)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()
