"""Which client serves which ``kind``: the one place a fourth CRM is added (see docs/CONNECTORS.md)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from leadflow.adapters.crm.base import (
    TOKENS,
    Connector,
    ConnectorConfig,
    Credentials,
    NotConfigured,
    TokenCache,
)
from leadflow.adapters.crm.http import HttpClient, default_http
from leadflow.domain.crm_connectors import CREDENTIALS_BY_KIND, SETTINGS_BY_KIND, ConnectorSettings

ConnectorFactory = Callable[[ConnectorSettings, Credentials, HttpClient, TokenCache], Connector]
_FACTORIES: dict[str, ConnectorFactory] = {}


def register(kind: str, factory: ConnectorFactory) -> None:
    _FACTORIES[kind] = factory


def _load_clients() -> None:
    """Import the clients where used (cold starts of functions that never sync stay lean)."""
    if _FACTORIES:
        return
    from leadflow.adapters.crm import dynamics, salesforce, sugarcrm

    register("salesforce", salesforce.SalesforceConnector)
    register("dynamics", dynamics.DynamicsConnector)
    register("sugarcrm", sugarcrm.SugarConnector)


def settings_for(config: ConnectorConfig) -> ConnectorSettings:
    """The kind's validated settings; NotConfigured (not retryable) when the entry cannot be one."""
    model = SETTINGS_BY_KIND.get(config.kind)
    if model is None:
        raise NotConfigured(
            f"connector {config.id!r} has an unknown kind {config.kind!r}", code="UNKNOWN_KIND"
        )
    raw: dict[str, object] = {"id": config.id, "instance_url": config.instance_url, **config.options}
    if config.api_version is not None:
        raw["api_version"] = config.api_version
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        fields = {".".join(map(str, e["loc"])) or "connector": e["msg"] for e in error.errors()}
        raise NotConfigured(
            f"connector {config.id!r} is not a valid {config.kind} configuration",
            code="INVALID_CONFIG",
            fields=fields,
        ) from None


def credentials_for(kind: str, credentials: Credentials | None, connector_id: str) -> Credentials:
    """The credentials checked against the kind's model; NotConfigured when absent or incomplete."""
    if credentials is None:
        raise NotConfigured(f"connector {connector_id!r} has no credentials", code="NOT_CONFIGURED")
    model = CREDENTIALS_BY_KIND[kind]
    try:
        checked = model.model_validate(dict(credentials.values))
    except ValidationError as error:
        fields = {".".join(map(str, e["loc"])) or "credentials": e["type"] for e in error.errors()}
        raise NotConfigured(
            f"connector {connector_id!r} has incomplete credentials", code="NOT_CONFIGURED", fields=fields
        ) from None
    return Credentials(values=checked.model_dump())


def connector_for(
    config: ConnectorConfig,
    credentials: Credentials | None,
    *,
    http: HttpClient | None = None,
    token_cache: TokenCache | None = None,
) -> Connector:
    """The client for ``config.kind``; NotConfigured without (valid) credentials or for a bad config."""
    settings = settings_for(config)
    checked = credentials_for(config.kind, credentials, config.id)
    _load_clients()
    factory = _FACTORIES.get(config.kind)
    if factory is None:
        raise NotConfigured(f"no client for kind {config.kind!r}", code="UNKNOWN_KIND")
    return factory(settings, checked, http or default_http(), TOKENS if token_cache is None else token_cache)
