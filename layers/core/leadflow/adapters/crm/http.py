"""JSON over HTTPS for the CRM clients, through urllib3 (it ships with botocore: no new dependency).

Every call has a timeout; urllib3's own retries are off (the runtime retries through the queue,
with backoff, so one slow CRM cannot hold a Lambda for minutes). Network failures become
``Unavailable``. Nothing here logs a body or a header: they carry tokens and personal data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from leadflow import clock
from leadflow.adapters.crm.base import MalformedReply, Unavailable

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_RETRY_AFTER = 900.0
"""A Retry-After longer than this (15 minutes) is capped: the queue's backoff takes over."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpClient(Protocol):
    """The one call the clients make; tests pass the default client pointed at a loopback stub."""

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpResponse: ...


class Urllib3Http:
    """The production client: a pooled urllib3 manager with timeouts and no hidden retries."""

    def __init__(self, *, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT):
        import urllib3  # imported where used: only connector work pays for it

        self._urllib3 = urllib3
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
            maxsize=4,
        )

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpResponse:
        try:
            reply = self._pool.request(
                method, url, headers=dict(headers), body=body, redirect=False, preload_content=True
            )
        except self._urllib3.exceptions.HTTPError as error:
            # the class name only: urllib3's messages can repeat the URL with its query (an email)
            raise Unavailable(
                f"the CRM could not be reached ({type(error).__name__})", code="NETWORK"
            ) from None
        return HttpResponse(
            status=reply.status,
            headers={name.lower(): value for name, value in reply.headers.items()},
            body=reply.data or b"",
        )


_default: Urllib3Http | None = None


def default_http() -> Urllib3Http:
    """One pooled client per container (connections are reused across warm invocations)."""
    global _default
    if _default is None:
        _default = Urllib3Http()
    return _default


def json_body(response: HttpResponse, *, allow_empty: bool = False) -> Any:
    """The reply's JSON; MalformedReply (retryable) when it is not JSON."""
    if not response.body.strip():
        if allow_empty:
            return None
        raise MalformedReply(f"the CRM answered {response.status} with an empty body", status=response.status)
    try:
        return json.loads(response.body)
    except (UnicodeDecodeError, ValueError):
        kind = response.header("content-type") or "no content type"
        raise MalformedReply(
            f"the CRM answered {response.status} with a body that is not JSON ({kind[:60]})",
            code="NOT_JSON",
            status=response.status,
        ) from None


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def retry_after(response: HttpResponse) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), capped; None if absent."""
    value = (response.header("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - clock.now()).total_seconds()
        except (TypeError, ValueError):
            return None
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER))
