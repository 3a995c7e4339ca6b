"""Small pieces the vendor clients share: the token-cache key, form bodies, error text hygiene."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlencode

from leadflow.adapters.crm.base import (
    AuthFailed,
    ConnectorError,
    Credentials,
    MemberSync,
    SyncResult,
    Throttled,
    Unavailable,
)

MAX_MESSAGE = 300


def token_key(connector_id: str, credentials: Credentials) -> tuple[str, str]:
    """Cache key: the connector and a digest of its credentials (new credentials, new token)."""
    digest = hashlib.sha256(json.dumps(dict(credentials.values), sort_keys=True).encode()).hexdigest()
    return connector_id, digest[:32]


def form(values: Mapping[str, str]) -> bytes:
    return urlencode(dict(values)).encode()


def short(text: object, *, redact: str | None = None) -> str:
    """A vendor message fit for a log and the contact view: bounded, one line, the email removed."""
    message = " ".join(str(text).split())
    if redact:
        message = message.replace(redact, "<email>")
    return message[:MAX_MESSAGE]


def chunks[T](items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def one_by_one(
    sync_member: Callable[[MemberSync], SyncResult], members: Sequence[MemberSync]
) -> list[SyncResult | ConnectorError]:
    """A batch for a CRM without a bulk call: row by row, each row's own outcome; once the CRM says
    slow down, is down or refuses the credentials, the remaining rows get that error untried."""
    outcomes: list[SyncResult | ConnectorError] = []
    stop: ConnectorError | None = None
    for member in members:
        if stop is not None:
            outcomes.append(stop)
            continue
        try:
            outcomes.append(sync_member(member))
        except (Throttled, Unavailable, AuthFailed) as error:
            stop = error
            outcomes.append(error)
        except ConnectorError as error:
            outcomes.append(error)
    return outcomes
