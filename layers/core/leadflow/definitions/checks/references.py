"""Checks shared by several sections: the references inside conditions and actions."""

from __future__ import annotations

from collections.abc import Sequence

from leadflow.definitions.actions import (
    Action,
    AddToCrmCampaignAction,
    AddToListAction,
    EnrollAction,
)
from leadflow.definitions.campaigns import CampaignKind
from leadflow.definitions.checks.context import Checker
from leadflow.definitions.conditions import Condition


def check_condition(checker: Checker, path: str, condition: Condition) -> None:
    """Every id a condition names exists and is of the right kind."""
    if condition.form is not None:
        checker.form(f"{path}.form", condition.form)
    if condition.in_list is not None:
        checker.contact_list(f"{path}.in_list", condition.in_list)
    if condition.ma_campaign is not None:
        checker.campaign(f"{path}.ma_campaign", condition.ma_campaign, CampaignKind.MA)
    if condition.crm_campaign is not None:
        campaign = checker.campaign(f"{path}.crm_campaign", condition.crm_campaign, CampaignKind.CRM)
        checker.member_status(f"{path}.status", campaign, condition.status)


def check_actions(checker: Checker, path: str, actions: Sequence[Action]) -> None:
    """Flows, static lists and CRM campaigns (with a status of theirs) named by actions exist."""
    for index, action in enumerate(actions):
        at = f"{path}[{index}]"
        match action:
            case EnrollAction(enroll=flow_id):
                checker.flow(f"{at}.enroll", flow_id)
            case AddToListAction(add_to_list=list_id):
                checker.contact_list(f"{at}.add_to_list", list_id, static=True)
            case AddToCrmCampaignAction(add_to_crm_campaign=membership):
                campaign = checker.campaign(
                    f"{at}.add_to_crm_campaign.campaign", membership.campaign, CampaignKind.CRM
                )
                checker.member_status(f"{at}.add_to_crm_campaign.status", campaign, membership.status)
            case _:
                pass
