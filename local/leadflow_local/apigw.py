"""API Gateway HTTP API (payload format 2.0) emulation: route selection, event, response.

Pure functions with no I/O, so the exact shapes API Gateway produces (lower-case headers
joined by commas, cookies taken out of the headers, base64 bodies for anything that is not
text, decoded path parameters) are unit-tested without a server.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from leadflow_local.errors import TemplateError
from leadflow_local.template import RouteSpec

IAM = "AWS_IAM"


@dataclass(frozen=True)
class HttpRequest:
    """A request as the HTTP front read it off the socket."""

    method: str
    target: str  # the request line's path and query, still percent-encoded
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.partition("?")[0] or "/"

    @property
    def raw_query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


class MalformedResponseError(ValueError):
    """The handler returned something API Gateway would answer with a 500."""


# ---------------------------------------------------------------- routing
@dataclass(frozen=True)
class _CompiledRoute:
    spec: RouteSpec
    segments: tuple[str, ...]

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")

    def match(self, method: str, parts: list[str]) -> dict[str, str] | None:
        if self.spec.method not in ("ANY", method):
            return None
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = parts[index:]
                if not rest or rest == [""]:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if parts[index] == "":
                    return None
                params[segment[1:-1]] = parts[index]
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None

    def specificity(self) -> tuple[int, int, int, int]:
        literal = sum(1 for segment in self.segments if not segment.startswith("{"))
        return (0 if self.greedy else 1, literal, len(self.segments), 0 if self.spec.method == "ANY" else 1)


class RouteTable:
    """Picks the route API Gateway would: exact before variables before greedy, then ``$default``."""

    def __init__(self, routes: list[RouteSpec]) -> None:
        seen: dict[str, RouteSpec] = {}
        self._routes: list[_CompiledRoute] = []
        self._default: RouteSpec | None = None
        for route in routes:
            if route.route_key in seen:
                raise TemplateError(
                    f"route {route.route_key} is declared by {seen[route.route_key].api} and {route.api}; "
                    "the local stack serves every API on one port"
                )
            seen[route.route_key] = route
            if route.path == "$default":
                self._default = route
            else:
                trimmed = route.path.strip("/")
                self._routes.append(_CompiledRoute(route, tuple(trimmed.split("/")) if trimmed else ()))

    def __len__(self) -> int:
        return len(self._routes) + (1 if self._default else 0)

    def match(self, method: str, raw_path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        """The route for a request path, with its decoded path parameters; None when nothing matches.

        Segments split before decoding, so an encoded slash (``%2F``) stays inside a parameter.
        """
        parts = [unquote(part) for part in raw_path.strip("/").split("/")] if raw_path.strip("/") else []
        if raw_path.endswith("/") and parts:
            parts.append("")
        best: tuple[tuple[int, int, int, int], RouteSpec, dict[str, str]] | None = None
        for route in self._routes:
            params = route.match(method, parts)
            if params is not None and (best is None or route.specificity() > best[0]):
                best = (route.specificity(), route.spec, params)
        if best is not None:
            return best[1], best[2]
        return (self._default, {}) if self._default else None

    def routes(self) -> list[RouteSpec]:
        return [route.spec for route in self._routes] + ([self._default] if self._default else [])


# ------------------------------------------------------------------ event
_TEXT_SUBTYPES = ("json", "xml", "javascript", "ecmascript")


def is_text(content_type: str | None) -> bool:
    """API Gateway passes these bodies as text; anything else (forms, binaries) arrives base64."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media.startswith("text/"):
        return True
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype in _TEXT_SUBTYPES or subtype.endswith(("+json", "+xml")))


def new_request_id() -> str:
    """Shaped like API Gateway's ids (``Ab1CdEfGhIjKlMn=``)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()[:15] + "="


def iam_identity(account: str) -> dict[str, Any]:
    """The IAM caller the admin handler sees locally once the bearer token matched."""
    return {
        "iam": {
            "accessKey": "LOCALADMINACCESSKEY",
            "accountId": account,
            "callerId": "LOCALADMIN",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{account}:user/leadflow-local-admin",
            "userId": "LOCALADMIN",
        }
    }


def build_event(
    route: RouteSpec,
    path_parameters: dict[str, str],
    request: HttpRequest,
    *,
    request_id: str,
    now: datetime,
    api_id: str,
    account: str,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway would send for ``request`` on ``route``."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", "127.0.0.1")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-port", host.rpartition(":")[2] if ":" in host else "80")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}")

    query: dict[str, str] = {}
    for name, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    path = unquote(request.raw_path)
    moment = now.astimezone(UTC)
    context: dict[str, Any] = {
        "accountId": account,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(moment.timestamp() * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if request.body:
        text = _as_text(request.body) if is_text(headers.get("content-type")) else None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


# --------------------------------------------------------------- response
def translate_response(result: Any) -> HttpResponse:
    """What API Gateway makes of a handler's return value (payload format 2.0 rules)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        document = json.dumps(result).encode()
        return HttpResponse(200, [("Content-Type", "application/json")], document)
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode {status!r} is not an HTTP status")
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise MalformedResponseError("headers must be an object")
    headers = [(str(name), _header_value(value)) for name, value in raw_headers.items()]
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise MalformedResponseError("cookies must be a list")
    headers.extend(("Set-Cookie", str(cookie)) for cookie in cookies)
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise MalformedResponseError(f"body must be a string, not {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise MalformedResponseError("isBase64Encoded body is not base64") from error
    else:
        payload = body.encode()
    return HttpResponse(status, headers, payload)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def error_response(status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    """An error in the shape of docs/API.md: ``{"error": {"code", "message", ...}}``."""
    body = json.dumps({"error": {"code": code, "message": message, **extra}}).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body)
