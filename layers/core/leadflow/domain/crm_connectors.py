"""What a connector's configuration may say, per CRM kind: pure models the bundle section reuses.

These live in the domain (not beside the clients in adapters/crm) because the definitions bundle
validates a ``connectors`` entry with them, and definitions must not import adapters. The clients
read their settings through the same models, so a bundle that validates is one a client can run.

URL rule of the product: ``https`` only, except loopback hosts (127.0.0.1, localhost, ::1), which
may be ``http`` so a development stub can stand in. It is a rule, not a test switch.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL_LENGTH = 2048


def is_loopback(host: str) -> bool:
    """Exactly the product's loopback hosts: 127.0.0.1, localhost (any case) and ::1."""
    host = host.lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address("::1")  # ::1 spelled out, e.g. 0:0::1
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The URL, without a trailing slash, if the product's rule allows it; ValueError otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"a URL is at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValueError("a URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port out of range or not a number
    except ValueError as error:
        raise ValueError(f"not a valid URL: {error}") from None
    host = parts.hostname or ""
    if not host:
        raise ValueError("a URL needs a host, e.g. https://acme.my.salesforce.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL may not carry credentials; store them with the credentials endpoint")
    if parts.query or parts.fragment:
        raise ValueError("a URL may not have a query or a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        del port
        return url.rstrip("/")
    if parts.scheme == "http":
        raise ValueError("a URL must use https (http is allowed only for loopback hosts)")
    raise ValueError("a URL must use https")


ConnectorUrl = Annotated[str, AfterValidator(check_url)]
ConnectorId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
OptionText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


class ConnectorSettings(BaseModel):
    """Common to every kind: strict keys (a typo is an error), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ConnectorId
    instance_url: ConnectorUrl


class SalesforceSettings(ConnectorSettings):
    """Salesforce REST: the org's My Domain URL and the REST API version, e.g. ``"62.0"``."""

    kind: Literal["salesforce"] = "salesforce"
    api_version: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{1,2}\.0$")] = "62.0"


GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
TENANT = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9][a-z0-9.-]{0,252})$"


class DynamicsSettings(ConnectorSettings):
    """Dataverse Web API: ``instance_url`` is the org URL (``https://{org}.crm.dynamics.com``).

    ``login_url`` exists only so a loopback stub can stand in for Entra ID; it obeys the same URL
    rule. ``email_key`` names an alternate key on ``emailaddress1`` when the org defines one.
    """

    kind: Literal["dynamics"] = "dynamics"
    api_version: Annotated[str, StringConstraints(pattern=r"^9\.[0-9]$")] = "9.2"
    tenant_id: Annotated[str, StringConstraints(pattern=TENANT)]
    login_url: ConnectorUrl = "https://login.microsoftonline.com"
    email_key: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,99}$")] | None = None


class SugarSettings(ConnectorSettings):
    """SugarCRM REST v11+: the instance URL and the OAuth ``platform`` Leadflow logs in on.

    A platform of its own keeps Leadflow's login from ending the users' web sessions.
    """

    kind: Literal["sugarcrm"] = "sugarcrm"
    api_version: Annotated[str, StringConstraints(pattern=r"^11(_[0-9]{1,2})?$")] = "11"
    platform: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "leadflow"
    client_id: OptionText = "sugar"


KindSettings = SalesforceSettings | DynamicsSettings | SugarSettings
SETTINGS_BY_KIND: dict[str, type[ConnectorSettings]] = {
    "salesforce": SalesforceSettings,
    "dynamics": DynamicsSettings,
    "sugarcrm": SugarSettings,
}

Secret = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[^\x00-\x1f]+$")]


class CredentialsModel(BaseModel):
    """The body of ``PUT /v1/admin/connectors/{id}/credentials``: kind-specific, strict."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientCredentials(CredentialsModel):
    """Salesforce and Dynamics: OAuth 2.0 client credentials."""

    client_id: Secret
    client_secret: Secret


class SugarCredentials(CredentialsModel):
    """SugarCRM: OAuth 2.0 password grant for an API user (``client_secret`` may be empty in Sugar)."""

    username: Secret
    password: Secret
    client_secret: Annotated[str, Field(max_length=4096)] = ""


CREDENTIALS_BY_KIND: dict[str, type[CredentialsModel]] = {
    "salesforce": ClientCredentials,
    "dynamics": ClientCredentials,
    "sugarcrm": SugarCredentials,
}

SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
"""A Salesforce record id (15 or 18 characters): what a Salesforce campaign's ``external.id`` is."""
GUID_ID = re.compile(GUID)
"""A Dataverse (Dynamics) record id: a marketing list's ``external.id``."""
SUGAR_ID = re.compile(r"^[0-9a-zA-Z-]{1,36}$")
"""A Sugar record id (a GUID, or a short id in demo data): a target list's ``external.id``."""
EXTERNAL_ID_BY_KIND: dict[str, re.Pattern[str]] = {
    "salesforce": SALESFORCE_ID,
    "dynamics": GUID_ID,
    "sugarcrm": SUGAR_ID,
}


def check_external_id(kind: str, external_id: str) -> str:
    """A campaign's ``external.id`` for a connector of ``kind``; ValueError when it cannot be one."""
    pattern = EXTERNAL_ID_BY_KIND.get(kind)
    if pattern is None:
        raise ValueError(f"unknown connector kind {kind!r}")
    if not pattern.fullmatch(external_id):
        raise ValueError(f"{external_id!r} is not a {kind} record id")
    return external_id
