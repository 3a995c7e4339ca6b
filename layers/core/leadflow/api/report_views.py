"""The campaign and report routes' replies, built from what services/reports returns."""

from __future__ import annotations

from leadflow.api.report_models import (
    CampaignListView,
    CampaignReportRow,
    CampaignsReportView,
    CampaignSummaryView,
    CampaignView,
    ConversionView,
    FiguresView,
    FunnelFiguresView,
    FunnelView,
    MaFunnelView,
    MemberStatusView,
)
from leadflow.domain.aggregates import STAGES
from leadflow.domain.reports import CampaignFigures, Figures, Funnel
from leadflow.services.reports import CampaignSummary, FunnelReport


def figures_view(figures: Figures) -> FiguresView:
    return FiguresView(
        members=figures.members,
        responded=figures.responded,
        response_rate=figures.response_rate,
        budgeted_cost=figures.budgeted_cost,
        actual_cost=figures.actual_cost,
        cost_per_response=figures.cost_per_response,
        expected_revenue=figures.expected_revenue,
        roi=figures.roi,
        statuses=figures.statuses,
    )


def campaign_list_view(summaries: list[CampaignSummary]) -> CampaignListView:
    rows = []
    for summary in summaries:
        campaign, crm = summary.campaign, summary.crm
        rows.append(
            CampaignSummaryView(
                id=campaign.id,
                kind=str(campaign.kind),
                name=campaign.name,
                type=campaign.type,
                status=str(campaign.status) if campaign.status else None,
                parent=campaign.parent,
                members=crm.own.members if crm else summary.ma_members,
                responded=crm.own.responded if crm else None,
                response_rate=crm.own.response_rate if crm else None,
                roi=crm.own.roi if crm else None,
            )
        )
    return CampaignListView(campaigns=rows)


def campaign_view(summary: CampaignSummary) -> CampaignView:
    campaign, crm = summary.campaign, summary.crm
    return CampaignView(
        id=campaign.id,
        kind=str(campaign.kind),
        name=campaign.name,
        description=campaign.description,
        type=campaign.type,
        status=str(campaign.status) if campaign.status else None,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        budgeted_cost=campaign.budgeted_cost,
        actual_cost=campaign.actual_cost,
        expected_revenue=campaign.expected_revenue,
        member_statuses=[
            MemberStatusView(name=s.name, default=s.default, responded=s.responded)
            for s in campaign.member_statuses
        ],
        custom_fields=dict(campaign.custom_fields),
        parent=campaign.parent,
        children=crm.children if crm else [],
        connected_crm_campaign=campaign.connected_crm_campaign,
        members=crm.own.members if crm else summary.ma_members,
        figures=figures_view(crm.own) if crm else None,
        hierarchy=figures_view(crm.hierarchy) if crm else None,
    )


def campaigns_report_view(rows: list[CampaignFigures]) -> CampaignsReportView:
    return CampaignsReportView(
        campaigns=[
            CampaignReportRow(
                campaign_id=row.campaign.id,
                name=row.campaign.name,
                type=row.campaign.type,
                status=str(row.campaign.status) if row.campaign.status else None,
                parent=row.campaign.parent,
                depth=row.depth,
                children=row.children,
                figures=figures_view(row.own),
                hierarchy=figures_view(row.hierarchy),
            )
            for row in rows
        ]
    )


def _funnel_figures(funnel: Funnel) -> FunnelFiguresView:
    return FunnelFiguresView(
        counts=funnel.counts,
        conversions=[
            ConversionView(from_stage=c.from_stage, to_stage=c.to_stage, rate=c.rate)
            for c in funnel.conversions
        ],
    )


def funnel_view(report: FunnelReport) -> FunnelView:
    return FunnelView(
        from_date=report.window.start,
        to_date=report.window.end,
        days=report.window.days,
        stages=list(STAGES),
        overall=_funnel_figures(report.overall),
        ma_campaigns=[
            MaFunnelView(
                ma_campaign_id=key, name=report.names.get(key, key), **_funnel_figures(funnel).__dict__
            )
            for key, funnel in report.by_ma_campaign.items()
        ],
    )
