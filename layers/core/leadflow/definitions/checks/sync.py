"""Sync rules: MA->CRM rules name an MA condition and a CRM campaign status; CRM->MA rules the reverse."""

from __future__ import annotations

from leadflow.definitions.campaigns import CampaignKind
from leadflow.definitions.checks.context import Checker
from leadflow.definitions.checks.references import check_condition
from leadflow.definitions.sync import CrmToMaRule, MaToCrmRule


def check_sync_rules(checker: Checker) -> None:
    for index, rule in enumerate(checker.bundle.sync_rules):
        at = checker.at("sync_rules", index)
        check_condition(checker, f"{at}.when", rule.when)
        match rule:
            case MaToCrmRule(then=then):
                path = f"{at}.then.add_to_crm_campaign"
                campaign = checker.campaign(path, then.add_to_crm_campaign, CampaignKind.CRM)
                checker.member_status(f"{at}.then.status", campaign, then.status)
            case CrmToMaRule(then=then):
                if then.add_to_list is not None:
                    checker.contact_list(f"{at}.then.add_to_list", then.add_to_list, static=True)
                if then.enroll is not None:
                    checker.flow(f"{at}.then.enroll", then.enroll)
