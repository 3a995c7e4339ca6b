"""The state shared by the cross-reference checks: the bundle, original positions, and the findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from leadflow.definitions.campaigns import Campaign, CampaignKind
from leadflow.definitions.connectors import Connector
from leadflow.definitions.errors import Problem
from leadflow.definitions.flows import Flow
from leadflow.definitions.forms import Form
from leadflow.definitions.lists import ContactList, ListKind
from leadflow.definitions.scoring import Scoring
from leadflow.definitions.sites import Site
from leadflow.definitions.sync import SyncRule
from leadflow.definitions.templates import EmailTemplate


class Definitions(Protocol):
    """What the checks read of a bundle: its sections and its lookups by id. ``Bundle`` is one;
    a protocol, so the checks that ``Bundle`` runs on itself do not depend back on it."""

    @property
    def campaigns(self) -> Sequence[Campaign]: ...
    @property
    def forms(self) -> Sequence[Form]: ...
    @property
    def scoring(self) -> Scoring: ...
    @property
    def lists(self) -> Sequence[ContactList]: ...
    @property
    def flows(self) -> Sequence[Flow]: ...
    @property
    def email_templates(self) -> Sequence[EmailTemplate]: ...
    @property
    def sync_rules(self) -> Sequence[SyncRule]: ...
    @property
    def sites(self) -> Sequence[Site]: ...
    @property
    def connectors(self) -> Sequence[Connector]: ...

    def campaign(self, campaign_id: str) -> Campaign | None: ...
    def form(self, form_id: str) -> Form | None: ...
    def flow(self, flow_id: str) -> Flow | None: ...
    def template(self, template_id: str) -> EmailTemplate | None: ...
    def list(self, list_id: str) -> ContactList | None: ...
    def connector(self, connector_id: str) -> Connector | None: ...


_KIND_WORD = {CampaignKind.MA: "an MA", CampaignKind.CRM: "a CRM"}


@dataclass
class Checker:
    """Collects problems while the checks walk a bundle.

    ``positions`` maps a section's item (by its index in the bundle) to its index in the document,
    which differ when items that failed validation were left out. References to those left-out
    items (``opaque`` ids) are not reported again as unknown.
    """

    bundle: Definitions
    positions: Mapping[str, Sequence[int]] = field(default_factory=dict)
    opaque: Mapping[str, set[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def at(self, section: str, index: int) -> str:
        """``forms[2]``: the path of a section's item, as the document numbers it."""
        positions = self.positions.get(section)
        return f"{section}[{positions[index] if positions is not None else index}]"

    def _opaque(self, section: str, item_id: str) -> bool:
        return item_id in self.opaque.get(section, set())

    # ---- references, each reporting what is wrong at ``path`` and returning the target when usable

    def campaign(self, path: str, campaign_id: str, kind: CampaignKind | None = None) -> Campaign | None:
        campaign = self.bundle.campaign(campaign_id)
        if campaign is None:
            if not self._opaque("campaigns", campaign_id):
                self.add(path, f'unknown campaign "{campaign_id}"')
            return None
        if kind is not None and campaign.kind is not kind:
            self.add(
                path,
                f'"{campaign_id}" is {_KIND_WORD[campaign.kind]} campaign; '
                f"this needs {_KIND_WORD[kind]} campaign",
            )
            return None
        return campaign

    def member_status(self, path: str, campaign: Campaign | None, status: str | None) -> None:
        if campaign is None or status is None or campaign.status_named(status) is not None:
            return
        known = ", ".join(campaign.status_names())
        self.add(path, f'unknown member status "{status}" of campaign "{campaign.id}" (it has: {known})')

    def form(self, path: str, form_id: str) -> Form | None:
        form = self.bundle.form(form_id)
        if form is None and not self._opaque("forms", form_id):
            self.add(path, f'unknown form "{form_id}"')
        return form

    def contact_list(self, path: str, list_id: str, *, static: bool = False) -> ContactList | None:
        contact_list = self.bundle.list(list_id)
        if contact_list is None:
            if not self._opaque("lists", list_id):
                self.add(path, f'unknown list "{list_id}"')
            return None
        if static and contact_list.kind is not ListKind.STATIC:
            self.add(path, f'"{list_id}" is a segment; contacts can only be added to a static list')
            return None
        return contact_list

    def flow(self, path: str, flow_id: str) -> Flow | None:
        flow = self.bundle.flow(flow_id)
        if flow is None and not self._opaque("flows", flow_id):
            self.add(path, f'unknown flow "{flow_id}"')
        return flow

    def connector(self, path: str, connector_id: str) -> Connector | None:
        connector = self.bundle.connector(connector_id)
        if connector is None and not self._opaque("connectors", connector_id):
            self.add(path, f'unknown connector "{connector_id}"')
        return connector

    def template(self, path: str, template_id: str) -> EmailTemplate | None:
        template = self.bundle.template(template_id)
        if template is None and not self._opaque("email_templates", template_id):
            self.add(path, f'unknown email template "{template_id}"')
        return template
