"""Reports: count each domain event once as it happens, and answer the campaign and funnel
reports from those counters (never from a scan of contacts or members).

Counting imports no definitions (the reports function's cold start stays near the baseline);
the report reads do, to join the counters to the campaigns' definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.domain import aggregates as tallies
from leadflow.domain import reports as figures
from leadflow.errors import NotFound, ValidationFailed
from leadflow.store import aggregates

if TYPE_CHECKING:
    from leadflow.definitions.campaigns import Campaign


def count(event: tallies.BusEvent) -> str:
    """``counted``, or ``duplicate`` for a redelivery (its claim exists: nothing changes)."""
    tally = tallies.tally(event)
    return "counted" if aggregates.count(tally) else "duplicate"


def _campaigns() -> list[Campaign]:
    from leadflow.services import definitions

    return list(definitions.active().bundle.campaigns)


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """One campaign of the list: its definition, and figures for a CRM campaign (``crm``) or
    the member count of an MA campaign."""

    campaign: Campaign
    crm: figures.CampaignFigures | None
    ma_members: int


def campaign_list() -> list[CampaignSummary]:
    """Every campaign of the active bundle with its headline figures: 16 queries in all."""
    campaigns = _campaigns()
    crm_counts, ma_members = aggregates.all_campaign_counts()
    rows = {row.campaign.id: row for row in figures.crm_report(campaigns, crm_counts)}
    return [
        CampaignSummary(campaign, rows.get(campaign.id), ma_members.get(campaign.id, 0))
        for campaign in campaigns
    ]


def campaign_detail(campaign_id: str) -> CampaignSummary:
    """One campaign and its figures: 16 GetItems for a campaign without children; a parent's
    hierarchy needs its descendants' counters too, read as the list does (16 queries)."""
    campaigns = _campaigns()
    found = next((campaign for campaign in campaigns if campaign.id == campaign_id), None)
    if found is None:
        raise NotFound(f'no campaign "{campaign_id}" in the active definitions')
    if not found.is_crm:
        return CampaignSummary(found, None, aggregates.campaign_counts(campaign_id, crm=False).members)
    if figures.descendants(campaigns)[found.id]:
        counts, _ = aggregates.all_campaign_counts()
    else:
        counts = {found.id: aggregates.campaign_counts(campaign_id, crm=True)}
    row = next(row for row in figures.crm_report(campaigns, counts) if row.campaign.id == campaign_id)
    return CampaignSummary(found, row, 0)


def campaigns_report() -> list[figures.CampaignFigures]:
    """Per CRM campaign, its figures and its hierarchy's: 16 queries in all."""
    crm_counts, _ = aggregates.all_campaign_counts()
    return figures.crm_report(_campaigns(), crm_counts)


@dataclass(frozen=True, slots=True)
class FunnelReport:
    window: figures.Window
    overall: figures.Funnel
    by_ma_campaign: dict[str, figures.Funnel]
    names: dict[str, str]


def funnel(start: str | None, end: str | None, ma_campaign: str | None = None) -> FunnelReport:
    """Entries per stage in the window (``YYYY-MM-DD`` days, both included), overall and per MA
    campaign (or only ``ma_campaign``): 16 queries over the day range, whatever the number of
    contacts."""
    try:
        first, last = figures.parse_day(start, "from"), figures.parse_day(end, "to")
        window = figures.window(first, last, clock.now().date())
    except figures.WindowError as error:
        raise ValidationFailed(error.message, {error.field: error.message}) from None
    ma = {campaign.id: campaign.name for campaign in _campaigns() if campaign.is_ma}
    if ma_campaign is not None and ma_campaign not in ma:
        message = f'no MA campaign "{ma_campaign}" in the active definitions'
        raise ValidationFailed(message, {"ma_campaign": message})
    counted = aggregates.funnel_counts(window.start, window.end)
    wanted = [ma_campaign] if ma_campaign is not None else [key for key in counted if key != tallies.OVERALL]
    return FunnelReport(
        window=window,
        overall=figures.funnel(counted.get(tallies.OVERALL, {})),
        by_ma_campaign={key: figures.funnel(counted.get(key, {})) for key in sorted(wanted)},
        names={key: ma.get(key, key) for key in wanted},
    )
