"""Connectors: the external CRMs whose campaigns Leadflow's CRM campaigns stand for.

A connector names a CRM and where it lives; credentials never appear here (they go to Secrets
Manager through ``PUT /v1/admin/connectors/{id}/credentials``). Each kind has its own settings,
validated at its keys. URLs are ``https``, except loopback hosts, which may be ``http`` so that a
development stub on the same machine can stand in: a rule of the product, not a test switch.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Discriminator, Field, StringConstraints

from leadflow.definitions.base import VARIANT_PREFIX, DefinitionModel, Slug, variant

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ConnectorKind(StrEnum):
    SALESFORCE = "salesforce"
    DYNAMICS = "dynamics"
    SUGARCRM = "sugarcrm"


def check_connector_url(value: str) -> str:
    """An absolute base URL: https, or http on a loopback host; no query, fragment or credentials."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f'"{value}" is not a URL') from None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise ValueError(f'"{value}" is not an absolute http(s) URL')
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError(f'"{value}" must use https (http is allowed only for 127.0.0.1, localhost or ::1)')
    if parts.username or parts.password:
        raise ValueError("credentials do not belong in the URL: PUT them to the connector's credentials")
    if parts.query or parts.fragment:
        raise ValueError(f'"{value}" is a base URL: leave out the query and fragment')
    del port  # parsed only to refuse a port that is not a number
    return value.removesuffix("/")


ConnectorUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(check_connector_url),
    Field(description="https://..., or http:// on a loopback host (a development stub)"),
]

ApiVersion = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,3}\.\d{1,2}$"),
    Field(description='the REST API version, such as "62.0"'),
]


class SalesforceConnector(DefinitionModel):
    """Salesforce REST API, OAuth 2.0 client credentials at ``{instance_url}/services/oauth2/token``."""

    id: Annotated[Slug, Field(description="unique among connectors")]
    kind: Literal[ConnectorKind.SALESFORCE]
    instance_url: Annotated[ConnectorUrl, Field(description="such as https://acme.my.salesforce.com")]
    api_version: Annotated[ApiVersion, Field(description='such as "62.0"')] = "62.0"


class DynamicsConnector(DefinitionModel):
    """Microsoft Dynamics 365 Sales (Dataverse Web API), OAuth client credentials at the tenant."""

    id: Annotated[Slug, Field(description="unique among connectors")]
    kind: Literal[ConnectorKind.DYNAMICS]
    org_url: Annotated[ConnectorUrl, Field(description="such as https://acme.crm.dynamics.com")]
    tenant_id: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$"),
        Field(description="the Microsoft Entra tenant (a GUID or a domain)"),
    ]
    api_version: Annotated[ApiVersion, Field(description='the Web API version, such as "9.2"')] = "9.2"
    login_url: Annotated[
        ConnectorUrl, Field(description="the token host; only a loopback stub needs another")
    ] = "https://login.microsoftonline.com"
    lead_email_key: Annotated[
        str | None,
        StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,63}$"),
        Field(description="an alternate key on emailaddress1, if the org defines one"),
    ] = None


class SugarCrmConnector(DefinitionModel):
    """SugarCRM REST v11+, password grant with a platform of Leadflow's own."""

    id: Annotated[Slug, Field(description="unique among connectors")]
    kind: Literal[ConnectorKind.SUGARCRM]
    url: Annotated[ConnectorUrl, Field(description="the instance, such as https://acme.sugarondemand.com")]
    platform: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"),
        Field(description="the API platform, so that users are not logged out of the web UI"),
    ] = "leadflow"
    api_version: Annotated[
        str, StringConstraints(pattern=r"^\d{2}(_\d{1,2})?$"), Field(description='such as "11"')
    ] = "11"


def _kind(value: object) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    known = {member.value for member in ConnectorKind}
    return VARIANT_PREFIX + kind if isinstance(kind, str) and kind in known else None


Connector = Annotated[
    Annotated[SalesforceConnector, variant(ConnectorKind.SALESFORCE)]
    | Annotated[DynamicsConnector, variant(ConnectorKind.DYNAMICS)]
    | Annotated[SugarCrmConnector, variant(ConnectorKind.SUGARCRM)],
    Discriminator(
        _kind,
        custom_error_type="invalid_connector_kind",
        custom_error_message="kind must be salesforce, dynamics or sugarcrm",
    ),
    Field(description="an external CRM: salesforce, dynamics or sugarcrm"),
]


def base_url(connector: SalesforceConnector | DynamicsConnector | SugarCrmConnector) -> str:
    """Where the connector's API lives, whatever its kind calls the setting."""
    match connector:
        case SalesforceConnector():
            return connector.instance_url
        case DynamicsConnector():
            return connector.org_url
        case SugarCrmConnector():
            return connector.url


class ExternalCampaign(DefinitionModel):
    """``external`` of a CRM campaign: the campaign on the connector's side."""

    connector: Annotated[Slug, Field(description="a connector id")]
    id: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9_.:{}-]{1,64}$"),
        Field(description="the CRM's campaign id, such as a Salesforce Campaign Id 701..."),
    ]
