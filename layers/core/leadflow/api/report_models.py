"""Replies of the campaign and report routes. Money and rates are JSON numbers (an amount
without cents as an integer: 5000, not 5000.0), computed in ``Decimal`` and converted here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


Number = Annotated[
    Decimal | None,
    PlainSerializer(_number, return_type=int | float | None, when_used="always"),
]


class FiguresView(BaseModel):
    members: Annotated[int, Field(description="Members now")]
    responded: Annotated[int, Field(description="Members now in a status the campaign marks responded")]
    response_rate: Annotated[Number, Field(description="responded / members; null without members")]
    budgeted_cost: Annotated[Number, Field(description="As defined (summed for a hierarchy)")]
    actual_cost: Annotated[Number, Field(description="As defined (summed for a hierarchy)")]
    cost_per_response: Annotated[
        Number, Field(description="actual cost / responded; null without a cost or a response")
    ]
    expected_revenue: Annotated[Number, Field(description="As defined (summed for a hierarchy)")]
    roi: Annotated[
        Number,
        Field(
            description="(expected revenue - actual cost) / actual cost; null when the cost is 0 or unknown"
        ),
    ]
    statuses: Annotated[dict[str, int], Field(description="Members per member status")]


class MemberStatusView(BaseModel):
    name: str
    default: bool
    responded: bool


class CampaignSummaryView(BaseModel):
    id: str
    kind: Annotated[str, Field(description="ma or crm")]
    name: str
    type: Annotated[str | None, Field(description="CRM only")] = None
    status: Annotated[str | None, Field(description="CRM only: planned, active, completed or aborted")] = None
    parent: Annotated[str | None, Field(description="CRM only: the parent campaign")] = None
    members: int
    responded: Annotated[int | None, Field(description="CRM only")] = None
    response_rate: Annotated[Number, Field(description="CRM only")] = None
    roi: Annotated[Number, Field(description="CRM only, this campaign's own")] = None


class CampaignListView(BaseModel):
    campaigns: Annotated[list[CampaignSummaryView], Field(description="In the bundle's order")]


class CampaignView(BaseModel):
    """A campaign's definition and its figures (CRM: its own and its hierarchy's)."""

    id: str
    kind: Annotated[str, Field(description="ma or crm")]
    name: str
    description: str | None = None
    type: str | None = None
    status: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    budgeted_cost: Number = None
    actual_cost: Number = None
    expected_revenue: Number = None
    member_statuses: list[MemberStatusView] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    parent: str | None = None
    children: Annotated[list[str], Field(description="CRM only: the direct children")] = Field(
        default_factory=list
    )
    connected_crm_campaign: Annotated[str | None, Field(description="MA only")] = None
    members: int
    figures: Annotated[FiguresView | None, Field(description="CRM only: this campaign's own")] = None
    hierarchy: Annotated[
        FiguresView | None, Field(description="CRM only: this campaign and all its descendants")
    ] = None


class CampaignReportRow(BaseModel):
    campaign_id: str
    name: str
    type: str | None
    status: str | None
    parent: str | None
    depth: Annotated[int, Field(description="0 for a top-level campaign, 1 for its children, ...")]
    children: list[str]
    figures: Annotated[FiguresView, Field(description="This campaign's own")]
    hierarchy: Annotated[FiguresView, Field(description="This campaign and all its descendants (rolled up)")]


class CampaignsReportView(BaseModel):
    campaigns: Annotated[list[CampaignReportRow], Field(description="CRM campaigns, parents before children")]


class ConversionView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_stage: Annotated[str, Field(alias="from")]
    to_stage: Annotated[str, Field(alias="to")]
    rate: Annotated[Number, Field(description="entries into `to` / entries into `from`; null when none")]


class FunnelFiguresView(BaseModel):
    counts: Annotated[dict[str, int], Field(description="Contacts entering each stage in the window")]
    conversions: list[ConversionView]


class MaFunnelView(FunnelFiguresView):
    ma_campaign_id: str
    name: str


class FunnelView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_date: Annotated[date, Field(alias="from")]
    to_date: Annotated[date, Field(alias="to")]
    days: int
    stages: Annotated[list[str], Field(description="The lifecycle stages, in order")]
    overall: FunnelFiguresView
    ma_campaigns: Annotated[list[MaFunnelView], Field(description="Per MA campaign that had entries")]


DOCUMENTED_REPORTS: tuple[type[BaseModel], ...] = (
    CampaignListView,
    CampaignView,
    CampaignsReportView,
    FunnelView,
)
