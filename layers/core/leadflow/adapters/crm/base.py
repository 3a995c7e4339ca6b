"""The one interface every CRM client implements, the values it takes and returns, its errors.

The runtime (the ``sync`` function, the inbound poll) codes against :class:`Connector` only;
``registry.connector_for`` builds the client for a configuration's kind. Nothing here talks to
AWS: credentials arrive as values read from Secrets Manager by the caller.

Errors say what the runtime should do: ``retryable`` errors go back to the queue (with
``retry_after`` when the CRM said how long to wait), the others are recorded as failed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from leadflow import clock


@dataclass(frozen=True)
class ConnectorConfig:
    """One entry of the bundle's ``connectors`` section (kind-specific keys in ``options``)."""

    id: str
    kind: str
    instance_url: str
    api_version: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Credentials:
    """The connector's secret, kind-specific (see domain/crm_connectors.CREDENTIALS_BY_KIND)."""

    values: Mapping[str, str]

    def __repr__(self) -> str:  # never print a secret, not even in a traceback
        return f"Credentials(keys={sorted(self.values)})"


@dataclass(frozen=True)
class ContactRecord:
    """The person as Leadflow knows them; ``fields`` are extra CRM field values to send."""

    contact_id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # personal data stays out of logs
        return f"ContactRecord(contact_id={self.contact_id!r})"


@dataclass(frozen=True)
class MemberSync:
    """One membership to make true in the CRM: this person, in this campaign, with this status.

    ``change_id`` is the membership event's id: the same change sent twice has one effect.
    """

    contact: ContactRecord
    external_campaign_id: str
    status: str
    responded: bool
    change_id: str
    previous_status: str | None = None
    """None for a new membership (``CrmCampaignMemberAdded``); set for a status change, so a client
    can look the member up first instead of trying a create that will fail."""


@dataclass(frozen=True)
class SyncResult:
    """What the CRM holds afterwards, and whether this call created the person or the member."""

    change_id: str
    external_person_id: str
    external_member_id: str | None
    created_person: bool
    created_member: bool


@dataclass(frozen=True)
class RemoteChange:
    """A membership status that changed in the CRM (inbound); ``modified_at`` is the CRM's own time."""

    external_member_id: str
    external_campaign_id: str
    email: str | None
    status: str
    modified_at: str

    def __repr__(self) -> str:
        return f"RemoteChange(external_member_id={self.external_member_id!r}, status={self.status!r})"


@dataclass(frozen=True)
class ChangePage:
    """One bounded page of inbound changes; pass ``watermark`` back to read the next one."""

    changes: list[RemoteChange]
    watermark: str | None
    more: bool


@dataclass(frozen=True)
class ApiUsage:
    """The CRM's own count of API calls against its limit (Salesforce ``Sforce-Limit-Info``)."""

    used: int
    limit: int

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit > 0 else 1.0

    def near_limit(self, threshold: float = 0.8) -> bool:
        """True once ``threshold`` of the limit is used: the runtime should slow down."""
        return self.fraction >= threshold


class ConnectorError(Exception):
    """A CRM call that did not succeed. ``code`` is the vendor's (e.g. ``REQUEST_LIMIT_EXCEEDED``).

    The message never holds a secret or personal data (vendors echo emails back: not kept).
    """

    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "ERROR",
        retryable: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.status = status
        self.fields: Mapping[str, str] = dict(fields or {})

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, retryable={self.retryable}, message={self.message!r})"
        )


class NotConfigured(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """No credentials (or no such kind): memberships wait as ``pending`` until they are set."""


class AuthFailed(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """The CRM refused the credentials: retrying will not help until they are replaced."""


class Throttled(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """The CRM asked us to slow down (429, Salesforce ``REQUEST_LIMIT_EXCEEDED``)."""

    default_retryable = True


class Unavailable(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """A 5xx, a timeout or a broken connection: the CRM may answer later."""

    default_retryable = True


class RemoteRejected(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """The CRM refused this record (validation, a missing campaign): the same call would fail again."""


class UnknownCampaign(RemoteRejected):
    """The campaign (or list) the bundle names does not exist in the CRM."""

    def __init__(self, external_campaign_id: str, *, code: str = "NOT_FOUND", status: int | None = None):
        super().__init__(
            f"campaign {external_campaign_id!r} does not exist in the CRM", code=code, status=status
        )
        self.external_campaign_id = external_campaign_id


class MalformedReply(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """The reply was not the JSON the vendor documents (a proxy's HTML page, a cut-off body)."""

    default_retryable = True


class NotSupported(ConnectorError):  # noqa: N818 (named for what happened, as the API codes are)
    """The connector cannot do this (e.g. inbound changes for a CRM without a change feed)."""


class Connector(Protocol):
    """What every CRM client does. Implementations are cheap to build: one per configuration."""

    kind: ClassVar[str]

    def sync_member(self, member: MemberSync) -> SyncResult:
        """Find or create the person, then add or update the membership; raises ConnectorError."""
        ...

    def sync_members(self, members: Sequence[MemberSync]) -> list[SyncResult | ConnectorError]:
        """Batched catch-up: one outcome per row, in order; raises only when nothing could be tried."""
        ...

    def changes_since(self, watermark: str | None, *, limit: int) -> ChangePage:
        """Inbound status changes after ``watermark`` (the CRM's own timestamps); may raise NotSupported."""
        ...

    def usage(self) -> ApiUsage | None:
        """The latest API usage the CRM reported, or None when it reports none."""
        ...


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working (None: until the CRM says it expired)."""

    access_token: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    instance_url: str | None = None

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at!r})"

    def fresh(self, margin: timedelta = timedelta(seconds=60)) -> bool:
        return self.expires_at is None or clock.now() + margin < self.expires_at


class TokenCache:
    """Tokens in memory, per container: a warm Lambda reuses one instead of logging in per message.

    Keyed by the connector id and a digest of its credentials, so new credentials never reuse an
    old token. Thread-safe (the local stack serves several threads).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], Token] = {}

    def get(self, key: tuple[str, str]) -> Token | None:
        with self._lock:
            token = self._tokens.get(key)
        return token if token is not None and token.fresh() else None

    def put(self, key: tuple[str, str], token: Token) -> None:
        with self._lock:
            self._tokens[key] = token

    def peek(self, key: tuple[str, str]) -> Token | None:
        """The stored token even if expired (its refresh token may still work)."""
        with self._lock:
            return self._tokens.get(key)

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()
"""The container's token cache, used when a caller passes none."""
