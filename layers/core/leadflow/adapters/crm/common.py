"""Small pieces the vendor clients share: the token-cache key, the client-credentials token
request, form bodies, error text hygiene, row-by-row batches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from urllib.parse import urlencode

from leadflow import clock
from leadflow.adapters.crm.base import (
    AuthFailed,
    ConnectorError,
    Credentials,
    MalformedReply,
    MemberSync,
    SyncResult,
    Throttled,
    Token,
    Unavailable,
)
from leadflow.adapters.crm.http import HttpClient, HttpResponse, json_body, retry_after

MAX_MESSAGE = 300


def token_key(connector_id: str, credentials: Credentials) -> tuple[str, str]:
    """Cache key: the connector and a digest of its credentials (new credentials, new token)."""
    digest = hashlib.sha256(json.dumps(dict(credentials.values), sort_keys=True).encode()).hexdigest()
    return connector_id, digest[:32]


def client_credentials_token(
    http: HttpClient,
    url: str,
    fields: Mapping[str, str],
    *,
    issuer: str,
    refused_code: str,
    throttled_codes: tuple[str, ...] = (),
    default_lifetime: float | None = None,
) -> Token:
    """An OAuth 2.0 client-credentials token (RFC 6749 4.4) from ``issuer``'s token endpoint.

    5xx: Unavailable; 429 (or an ``error`` in ``throttled_codes``): Throttled; any other refusal:
    AuthFailed with the reply's ``error`` (``refused_code`` when there is none); a 200 without an
    ``access_token``: MalformedReply. It expires after ``expires_in`` seconds, or
    ``default_lifetime`` when the reply has none (None: when the CRM says it did)."""
    response = http.request(
        "POST",
        url,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        body=form({"grant_type": "client_credentials", **fields}),
    )
    if response.status >= 500:
        raise Unavailable(f"the {issuer} token endpoint answered {response.status}", status=response.status)
    if response.status != 200:
        reply = refusal_body(response)
        error = reply.get("error") if isinstance(reply, dict) else None
        code = str(error) if error else (str(response.status) if response.status == 429 else refused_code)
        if response.status == 429 or code in throttled_codes:
            raise Throttled(
                f"the {issuer} token endpoint is throttled", code=code, retry_after=retry_after(response)
            )
        raise AuthFailed(
            f"{issuer} refused the credentials ({short(code)})", code=code, status=response.status
        )
    reply = json_body(response)
    if not isinstance(reply, dict) or not isinstance(reply.get("access_token"), str):
        raise MalformedReply("the token reply has no access_token", code="BAD_TOKEN_REPLY")
    lifetime = reply.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float | str) and str(lifetime).isdigit() else None
    seconds = seconds if seconds is not None else default_lifetime
    expires_at = clock.now() + timedelta(seconds=seconds) if seconds is not None else None
    return Token(access_token=reply["access_token"], expires_at=expires_at)


def refusal_body(response: HttpResponse) -> object:
    """A refusal's JSON, or None: a throttle or refusal is one whatever its body (an HTML page)."""
    try:
        return json_body(response, allow_empty=True)
    except MalformedReply:
        return None


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
