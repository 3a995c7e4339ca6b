"""Campaign links: connected CRM campaigns (1:1) and the CRM hierarchy (no cycles)."""

from __future__ import annotations

from leadflow.definitions.campaigns import CampaignKind
from leadflow.definitions.checks.context import Checker


def check_campaigns(checker: Checker) -> None:
    connected_by: dict[str, str] = {}
    for index, campaign in enumerate(checker.bundle.campaigns):
        at = checker.at("campaigns", index)
        if campaign.connected_crm_campaign is not None:
            path = f"{at}.connected_crm_campaign"
            target = checker.campaign(path, campaign.connected_crm_campaign, CampaignKind.CRM)
            if target is not None:
                if target.id in connected_by:
                    checker.add(
                        path,
                        f'"{target.id}" is already connected to MA campaign "{connected_by[target.id]}"; '
                        "a CRM campaign mirrors at most one MA campaign",
                    )
                else:
                    connected_by[target.id] = campaign.id
        if campaign.parent is not None:
            checker.campaign(f"{at}.parent", campaign.parent, CampaignKind.CRM)
    _check_hierarchy(checker)


def _check_hierarchy(checker: Checker) -> None:
    """Report each parent cycle once, at the first campaign of the cycle in the document."""
    bundle = checker.bundle
    reported: set[str] = set()
    for index, campaign in enumerate(bundle.campaigns):
        chain = [campaign.id]
        current = campaign
        while current.parent is not None and (parent := bundle.campaign(current.parent)) is not None:
            if parent.id in chain:
                cycle = chain[chain.index(parent.id) :]
                if parent.id == campaign.id and not reported.intersection(cycle):
                    reported.update(cycle)
                    route = " -> ".join([*cycle, parent.id])
                    checker.add(f"{checker.at('campaigns', index)}.parent", f"parent cycle: {route}")
                break
            chain.append(parent.id)
            current = parent
