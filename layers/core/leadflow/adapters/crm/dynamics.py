"""The dynamics client (being written: the interface commit only reserves its name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from leadflow.adapters.crm.base import (
    ApiUsage,
    ChangePage,
    ConnectorError,
    Credentials,
    MemberSync,
    NotSupported,
    SyncResult,
    TokenCache,
)
from leadflow.adapters.crm.http import HttpClient
from leadflow.domain.crm_connectors import ConnectorSettings


class DynamicsConnector:
    kind: ClassVar[str] = "dynamics"

    def __init__(
        self, settings: ConnectorSettings, credentials: Credentials, http: HttpClient, tokens: TokenCache
    ) -> None:
        self.settings, self.credentials, self.http, self.tokens = settings, credentials, http, tokens

    def sync_member(self, member: MemberSync) -> SyncResult:
        raise NotSupported("not built yet", code="NOT_BUILT")

    def sync_members(self, members: Sequence[MemberSync]) -> list[SyncResult | ConnectorError]:
        raise NotSupported("not built yet", code="NOT_BUILT")

    def changes_since(self, watermark: str | None, *, limit: int) -> ChangePage:
        raise NotSupported("not built yet", code="NOT_BUILT")

    def usage(self) -> ApiUsage | None:
        return None
