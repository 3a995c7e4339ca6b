"""The bundle: every definition, validated as a whole, with O(1) lookups by id for the Lambdas."""

# No `from __future__ import annotations` here: the `list` method would shadow `list` when pydantic
# evaluates the field annotations as strings in the class namespace.

import builtins
from typing import Annotated, Any, Self

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from leadflow.definitions.base import DefinitionModel, reading_stored
from leadflow.definitions.campaigns import Campaign
from leadflow.definitions.checks import check_bundle
from leadflow.definitions.connectors import Connector
from leadflow.definitions.durations import TimeZoneName
from leadflow.definitions.errors import DefinitionsError
from leadflow.definitions.flows import Flow
from leadflow.definitions.forms import Form
from leadflow.definitions.lists import ContactList
from leadflow.definitions.scoring import Scoring
from leadflow.definitions.sections import SECTIONS
from leadflow.definitions.sites import Site
from leadflow.definitions.sync import SyncDirection, SyncRule
from leadflow.definitions.templates import EmailTemplate
from leadflow.definitions.triggers import TriggerKind

SKIP_CHECKS = "leadflow_skip_checks"
"""Validation context key: the caller runs the cross-reference checks itself (``parse_bundle`` does)."""


class Bundle(DefinitionModel):
    """Every definition Leadflow runs on, applied and versioned as one document."""

    version_note: Annotated[
        str | None, Field(description="what changed in this version, for the history")
    ] = None
    default_time_zone: Annotated[
        TimeZoneName,
        Field(description="the IANA time zone for contacts without one of their own, such as Europe/Berlin"),
    ] = "UTC"
    campaigns: Annotated[list[Campaign], Field(description="MA and CRM campaigns")] = []
    forms: Annotated[list[Form], Field(description="forms websites post to")] = []
    scoring: Annotated[Scoring, Field(description="the scoring model")] = Scoring()
    lists: Annotated[list[ContactList], Field(description="static lists and segments")] = []
    flows: Annotated[list[Flow], Field(description="nurture flows")] = []
    email_templates: Annotated[list[EmailTemplate], Field(description="emails that flows send")] = []
    sync_rules: Annotated[list[SyncRule], Field(description="one-way MA<->CRM rules")] = []
    sites: Annotated[list[Site], Field(description="websites that send tracking events")] = []
    connectors: Annotated[
        list[Connector], Field(description="external CRMs (salesforce, dynamics, sugarcrm); no credentials")
    ] = []

    _campaigns: dict[str, Campaign] = PrivateAttr(default_factory=dict)
    _forms: dict[str, Form] = PrivateAttr(default_factory=dict)
    _lists: dict[str, ContactList] = PrivateAttr(default_factory=dict)
    _flows: dict[str, Flow] = PrivateAttr(default_factory=dict)
    _templates: dict[str, EmailTemplate] = PrivateAttr(default_factory=dict)
    _sites_by_key: dict[str, Site] = PrivateAttr(default_factory=dict)
    _connectors: dict[str, Connector] = PrivateAttr(default_factory=dict)
    _flows_by_trigger: dict[str, builtins.list[Flow]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._campaigns = {item.id: item for item in reversed(self.campaigns)}  # first wins on a duplicate
        self._forms = {item.id: item for item in reversed(self.forms)}
        self._lists = {item.id: item for item in reversed(self.lists)}
        self._flows = {item.id: item for item in reversed(self.flows)}
        self._templates = {item.id: item for item in reversed(self.email_templates)}
        self._sites_by_key = {item.write_key: item for item in reversed(self.sites)}
        self._connectors = {item.id: item for item in reversed(self.connectors)}
        for flow in self.flows:
            self._flows_by_trigger.setdefault(flow.trigger.kind, []).append(flow)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """``forms:`` with nothing under it (YAML null) means no forms, as ``forms: []`` does."""
        if isinstance(data, dict) and any(data.get(section, []) is None for section in SECTIONS):
            return {key: value for key, value in data.items() if not (key in SECTIONS and value is None)}
        return data

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Self:
        """Direct ``Bundle.model_validate`` checks references too; ``parse_bundle`` runs them itself,
        and a bundle read back from the store was checked when it was applied."""
        if not (info.context or {}).get(SKIP_CHECKS) and not reading_stored(info):
            problems = check_bundle(self)
            if problems:
                raise DefinitionsError(problems)
        return self

    # ---- lookups

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self._campaigns.get(campaign_id)

    def form(self, form_id: str) -> Form | None:
        return self._forms.get(form_id)

    def flow(self, flow_id: str) -> Flow | None:
        return self._flows.get(flow_id)

    def template(self, template_id: str) -> EmailTemplate | None:
        return self._templates.get(template_id)

    def connector(self, connector_id: str) -> Connector | None:
        return self._connectors.get(connector_id)

    def site_by_write_key(self, write_key: str) -> Site | None:
        return self._sites_by_key.get(write_key)

    def flows_with_trigger(self, kind: TriggerKind | str) -> builtins.list[Flow]:
        """Flows started by this kind of trigger, in bundle order (an index for the process function)."""
        return self._flows_by_trigger.get(kind, [])  # a StrEnum member and its plain string are one key

    def sync_rules_for(self, direction: SyncDirection | str) -> builtins.list[SyncRule]:
        """The sync rules that run in one direction, in bundle order."""
        return [rule for rule in self.sync_rules if rule.direction == direction]

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict without defaults; ``parse_bundle(b.to_json_dict()) == b``."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_defaults=True)

    def list(self, list_id: str) -> ContactList | None:  # last: the name shadows ``list`` in the class body
        return self._lists.get(list_id)
