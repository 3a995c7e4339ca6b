"""Small pieces the vendor clients share: the token-cache key, form bodies, error text hygiene."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from urllib.parse import urlencode

from leadflow.adapters.crm.base import Credentials

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
