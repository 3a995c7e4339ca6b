"""Connectors: the external CRMs whose campaigns Leadflow's CRM campaigns stand for.

A connector names a CRM and where it lives (``instance_url``); credentials never appear here (they
go to Secrets Manager through ``PUT /v1/admin/connectors/{id}/credentials``). Each kind has its own
settings, validated at its keys by the models the clients read them with. URLs are ``https``, except
loopback hosts, which may be ``http`` so that a development stub on the same machine can stand in: a
rule of the product, not a test switch.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, StringConstraints

from leadflow.definitions.base import VARIANT_PREFIX, DefinitionModel, Slug, variant
from leadflow.domain.crm_connectors import (
    SETTINGS_BY_KIND,
    DynamicsSettings,
    SalesforceSettings,
    SugarSettings,
)

KINDS: tuple[str, ...] = tuple(SETTINGS_BY_KIND)
"""The kinds a bundle may name: the clients' own table (adapters/crm/registry.py serves them)."""


class SalesforceConnector(SalesforceSettings, DefinitionModel):
    """Salesforce REST; OAuth 2.0 client credentials at ``{instance_url}/services/oauth2/token``."""

    kind: Literal["salesforce"]  # required in a bundle (the clients' model defaults it)


class DynamicsConnector(DynamicsSettings, DefinitionModel):
    """Dynamics 365 Sales (Dataverse Web API); OAuth client credentials at the tenant's login."""

    kind: Literal["dynamics"]


class SugarCrmConnector(SugarSettings, DefinitionModel):
    """SugarCRM REST v11+; password grant on a platform of Leadflow's own."""

    kind: Literal["sugarcrm"]


def _kind(value: object) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return VARIANT_PREFIX + kind if isinstance(kind, str) and kind in KINDS else None


Connector = Annotated[
    Annotated[SalesforceConnector, variant("salesforce")]
    | Annotated[DynamicsConnector, variant("dynamics")]
    | Annotated[SugarCrmConnector, variant("sugarcrm")],
    Discriminator(
        _kind,
        custom_error_type="invalid_connector_kind",
        custom_error_message="kind must be salesforce, dynamics or sugarcrm",
    ),
    Field(description="an external CRM: salesforce, dynamics or sugarcrm (settings per kind)"),
]
"""One entry of ``connectors``: the clients' settings model of its kind (domain/crm_connectors.py)
with ``kind`` required, so a bundle that validates is one the client can run."""


class ExternalCampaign(DefinitionModel):
    """``external`` of a CRM campaign: the campaign on the connector's side."""

    connector: Annotated[Slug, Field(description="a connector id")]
    id: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$"),
        Field(description="the CRM's campaign (or list) id, such as a Salesforce Campaign Id 701..."),
    ]
