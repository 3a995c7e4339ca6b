"""Campaigns: MA campaigns (one per person, joined by behaviour) and CRM campaigns (many, with statuses).

One ``Campaign`` model covers both kinds so stores and engines deal with one type; CRM-only
keys on an MA campaign, or the reverse, are errors at that key.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, ValidationInfo, field_validator

from leadflow.definitions.base import DefinitionModel, DisplayName, ScalarValue, Slug
from leadflow.definitions.connectors import ExternalCampaign


class CampaignKind(StrEnum):
    """``ma``: a person is in at most one, by first touch. ``crm``: many-to-many membership with statuses."""

    MA = "ma"
    CRM = "crm"


class CampaignStatus(StrEnum):
    """A CRM campaign's state."""

    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    ABORTED = "aborted"


def _money_json(amount: Decimal) -> int | float:
    """Amounts are numbers in JSON, as marketers wrote them (5000, not "5000")."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=15, decimal_places=2),
    PlainSerializer(_money_json, return_type=int | float, when_used="json"),
]


class MemberStatus(DefinitionModel):
    """A CRM campaign member status, such as Sent, Registered, Attended."""

    name: Annotated[str, Field(min_length=1, max_length=64, description="the status as sales sees it")]
    default: Annotated[bool, Field(description="new members get this status when none is given")] = False
    responded: Annotated[bool, Field(description="members with this status count as having responded")] = (
        False
    )


DEFAULT_MEMBER_STATUSES: tuple[MemberStatus, ...] = (
    MemberStatus(name="Sent", default=True),
    MemberStatus(name="Responded", responded=True),
)
"""What a CRM campaign gets when it lists no statuses (as in common CRMs)."""

CRM_ONLY_FIELDS: tuple[str, ...] = (
    "type",
    "status",
    "parent",
    "start_date",
    "end_date",
    "budgeted_cost",
    "actual_cost",
    "expected_revenue",
    "member_statuses",
    "external",
    "custom_fields",
)
MA_ONLY_FIELDS: tuple[str, ...] = ("connected_crm_campaign",)


class Campaign(DefinitionModel):
    """An MA or CRM campaign."""

    id: Annotated[Slug, Field(description="unique among campaigns")]
    kind: Annotated[CampaignKind, Field(description="ma or crm")]
    name: Annotated[DisplayName, Field(description="the campaign's name in reports")]
    description: Annotated[str | None, Field(description="free text for the team")] = None
    # -- MA only
    connected_crm_campaign: Annotated[
        Slug | None,
        Field(description="MA only: a CRM campaign that mirrors this campaign's members (1:1)"),
    ] = None
    # -- CRM only
    type: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="CRM only: Email, Event, Webinar, Advertisement, ..."),
    ] = None
    status: Annotated[
        CampaignStatus | None,
        Field(validate_default=True, description="CRM only: planned (default), active, completed or aborted"),
    ] = None
    parent: Annotated[Slug | None, Field(description="CRM only: the parent CRM campaign")] = None
    start_date: Annotated[date | None, Field(description="CRM only: YYYY-MM-DD")] = None
    end_date: Annotated[date | None, Field(description="CRM only: YYYY-MM-DD, not before start_date")] = None
    budgeted_cost: Annotated[Money | None, Field(description="CRM only")] = None
    actual_cost: Annotated[Money | None, Field(description="CRM only")] = None
    expected_revenue: Annotated[Money | None, Field(description="CRM only")] = None
    member_statuses: Annotated[
        list[MemberStatus],
        Field(
            validate_default=True,
            description="CRM only: the member statuses; default Sent (default) and Responded (responded)",
        ),
    ] = []
    external: Annotated[
        ExternalCampaign | None,
        Field(description="CRM only: the campaign in a connector's CRM, {connector, id}"),
    ] = None
    custom_fields: Annotated[
        dict[str, ScalarValue | None],
        Field(description="CRM only: extra fields passed to the CRM, such as {region: EMEA}"),
    ] = {}

    # ---- validation (field validators, so each error is reported at its key)

    @field_validator(*CRM_ONLY_FIELDS[:-3], "external", "custom_fields")
    @classmethod
    def _crm_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("kind") is CampaignKind.MA and value not in (None, {}):
            raise ValueError(f"{info.field_name} is for CRM campaigns (kind: crm), not MA campaigns")
        if info.field_name == "status" and value is None and info.data.get("kind") is CampaignKind.CRM:
            return CampaignStatus.PLANNED
        if info.field_name == "end_date" and value is not None:
            start = info.data.get("start_date")
            if start is not None and value < start:
                raise ValueError(f"end_date {value} is before start_date {start}")
        return value

    @field_validator(*MA_ONLY_FIELDS)
    @classmethod
    def _ma_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("kind") is CampaignKind.CRM and value is not None:
            raise ValueError(f"{info.field_name} is for MA campaigns (kind: ma), not CRM campaigns")
        return value

    @field_validator("member_statuses")
    @classmethod
    def _statuses(cls, value: list[MemberStatus], info: ValidationInfo) -> list[MemberStatus]:
        kind = info.data.get("kind")
        if kind is CampaignKind.MA:
            if value:
                raise ValueError("member_statuses is for CRM campaigns (kind: crm), not MA campaigns")
            return value
        if not value:
            return list(DEFAULT_MEMBER_STATUSES) if kind is CampaignKind.CRM else value
        seen: set[str] = set()
        for status in value:
            key = status.name.casefold()
            if key in seen:
                raise ValueError(f'member status "{status.name}" is listed twice')
            seen.add(key)
        defaults = [status.name for status in value if status.default]
        if len(defaults) > 1:
            raise ValueError(f"only one member status can be the default, not {', '.join(defaults)}")
        return value

    # ---- queries

    @property
    def is_crm(self) -> bool:
        return self.kind is CampaignKind.CRM

    @property
    def is_ma(self) -> bool:
        return self.kind is CampaignKind.MA

    def default_status(self) -> MemberStatus | None:
        """The status new members get: the one marked default, else the first; ``None`` for MA campaigns."""
        return next((s for s in self.member_statuses if s.default), None) or next(
            iter(self.member_statuses), None
        )

    def status_named(self, name: str) -> MemberStatus | None:
        """The member status with this exact name, if the campaign has one."""
        return next((s for s in self.member_statuses if s.name == name), None)

    def responded_statuses(self) -> list[MemberStatus]:
        """The statuses that count as a response (for response rates and monotonic status changes)."""
        return [s for s in self.member_statuses if s.responded]

    def status_names(self) -> list[str]:
        """Every member status name, in order."""
        return [s.name for s in self.member_statuses]
