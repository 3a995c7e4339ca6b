"""Forms: the campaign a submitter joins, and the completion actions."""

from __future__ import annotations

from leadflow.definitions.campaigns import CampaignKind
from leadflow.definitions.checks.context import Checker
from leadflow.definitions.checks.references import check_actions


def check_forms(checker: Checker) -> None:
    for index, form in enumerate(checker.bundle.forms):
        at = checker.at("forms", index)
        if form.campaign is not None:
            checker.campaign(f"{at}.campaign", form.campaign, CampaignKind.MA)
        check_actions(checker, f"{at}.on_submit", form.on_submit)
