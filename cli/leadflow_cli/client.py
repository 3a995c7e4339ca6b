"""A small client for the admin API: bearer token locally, and errors printed the API's way."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        error = body.get("error", {}) if isinstance(body, dict) else {}
        prefix = f"{status} " if status else ""
        super().__init__(f"{prefix}{error.get('code', 'error')}: {error.get('message', body)}")

    @property
    def fields(self) -> dict[str, str]:
        error = self.body.get("error", {}) if isinstance(self.body, dict) else {}
        return dict(error.get("fields") or {})


class AdminClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 30) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"--url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = f"{self.base_url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return Reply(response.status, _decode(response.read()))
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _decode(error.read())) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            message = f"cannot reach {self.base_url}: {reason}"
            raise ApiError(0, {"error": {"code": "unreachable", "message": message}}) from None


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")
