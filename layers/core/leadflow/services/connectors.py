"""Connectors for the admin API: credentials in, status out, dead letters replayed.

Credentials are checked against the connector kind's model before anything is stored, and
never returned. Storing them re-queues every membership that waited for them (``pending`` /
``not_configured``), so a connector configured late catches up without a retry loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from leadflow import clock
from leadflow.errors import NotFound, TemporarilyUnavailable, ValidationFailed
from leadflow.services import definitions
from leadflow.store import crm_sync as sync_store

REPLAY_LIMIT = 100


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    connector_id: str
    kind: str
    instance_url: str
    configured: bool
    health: sync_store.Health
    pending: int
    failed: int
    dead_letters: int


def _connector(connector_id: str) -> Any:
    connector = definitions.active().bundle.connector(connector_id)
    if connector is None:
        raise NotFound(f"no connector {connector_id} in the active definitions")
    return connector


def set_credentials(connector_id: str, body: dict[str, Any]) -> int:
    """Validates ``body`` for the connector's kind, stores it, and re-queues what waited; the count re-queued."""
    from leadflow.adapters import secrets
    from leadflow.domain.crm_connectors import CREDENTIALS_BY_KIND
    from leadflow.services import crm_sync

    connector = _connector(connector_id)
    model = CREDENTIALS_BY_KIND[connector.kind]
    try:
        checked = model.model_validate(body)
    except ValidationError as error:
        # messages only: pydantic's input echo would quote a secret back
        fields = {".".join(map(str, item["loc"])) or "body": item["msg"] for item in error.errors()}
        raise ValidationFailed.for_fields(fields) from None
    try:
        secrets.put_connector_credentials(connector_id, checked.model_dump())
    except secrets.ConnectorSecretUnavailableError:
        raise TemporarilyUnavailable("the credentials could not be stored; try again") from None
    return crm_sync.resend_waiting(connector_id, cause=f"credentials@{clock.iso(clock.now())}")


def status(connector_id: str) -> ConnectorStatus:
    from leadflow.adapters import secrets, sync_queue

    connector = _connector(connector_id)
    try:
        configured = secrets.connector_configured(connector_id)
    except secrets.ConnectorSecretUnavailableError:
        raise TemporarilyUnavailable("Secrets Manager could not be reached; try again") from None
    return ConnectorStatus(
        connector_id=connector.id,
        kind=connector.kind,
        instance_url=connector.instance_url,
        configured=configured,
        health=sync_store.health(connector_id),
        pending=sync_store.count(connector_id, "pending"),
        failed=sync_store.count(connector_id, "failed"),
        dead_letters=sync_queue.dead_letter_depth(),
    )


def replay(connector_id: str, limit: int = REPLAY_LIMIT) -> Any:
    """Sends up to ``limit`` of this connector's dead letters back to the sync queue."""
    from leadflow.adapters import sync_queue
    from leadflow.services import crm_sync

    _connector(connector_id)
    return sync_queue.replay(crm_sync.belongs_to(connector_id), limit=limit)
