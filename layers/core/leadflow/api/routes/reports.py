"""``/v1/admin/campaigns`` and ``/v1/admin/reports/...``: campaigns with their figures, the
campaign report and the funnel, read from the counters the reports function keeps."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from leadflow.api import contract, report_views
from leadflow.api.report_models import CampaignListView, CampaignsReportView, CampaignView, FunnelView
from leadflow.services import reports

router = Router()


@router.get(
    "/v1/admin/campaigns",
    summary="Every campaign of the active definitions with its headline figures",
    tags=["Campaigns"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("CampaignListView"), "The campaigns, in the bundle's order"),
        **contract.admin_errors(),
    },
)
def list_campaigns() -> CampaignListView:
    return report_views.campaign_list_view(reports.campaign_list())


@router.get(
    "/v1/admin/campaigns/<campaign_id>",
    summary="A campaign's definition and figures",
    description="A CRM campaign's figures are its own and its hierarchy's (itself and every descendant).",
    tags=["Campaigns"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("CampaignView"), "The campaign"),
        404: contract.error("No campaign with that id in the active definitions"),
        422: contract.error("Not a campaign id"),
        **contract.admin_errors(),
    },
)
def get_campaign(campaign_id: Annotated[str, Path(max_length=64)]) -> CampaignView:
    return report_views.campaign_view(reports.campaign_detail(campaign_id))


@router.get(
    "/v1/admin/reports/campaigns",
    summary="Per CRM campaign: members, responses, costs, expected revenue and ROI, rolled up",
    tags=["Reports"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("CampaignsReportView"), "Every CRM campaign, parents first"),
        **contract.admin_errors(),
    },
)
def campaigns_report() -> CampaignsReportView:
    return report_views.campaigns_report_view(reports.campaigns_report())


@router.get(
    "/v1/admin/reports/funnel",
    summary="Contacts entering each lifecycle stage in a window, and the conversion between stages",
    description="Both ends included, UTC days; at most 400 days. Overall and per MA campaign.",
    tags=["Reports"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("FunnelView"), "The funnel"),
        422: contract.error(
            "A date that is not YYYY-MM-DD, from after to, a window over 400 days, or an unknown MA campaign"
        ),
        **contract.admin_errors(),
    },
)
def funnel_report(
    from_date: Annotated[
        str | None, Query(alias="from", description="First day, YYYY-MM-DD (default: to - 29 days)")
    ] = None,
    to_date: Annotated[
        str | None, Query(alias="to", description="Last day, YYYY-MM-DD (default: today, UTC)")
    ] = None,
    ma_campaign: Annotated[str | None, Query(max_length=64, description="Only this MA campaign")] = None,
) -> FunnelView:
    return report_views.funnel_view(reports.funnel(from_date, to_date, ma_campaign))
