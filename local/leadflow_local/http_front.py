"""The HTTP front: API Gateway's place on ``127.0.0.1:PORT``.

``Front`` turns a request into a payload 2.0 event for the route's real handler and its
return value into the reply API Gateway would send; ``HttpFront`` is the socket side (the
standard library's threading server, HTTP/1.1 keep-alive). One concise console line per
request: method, path, status, function, milliseconds.
"""

from __future__ import annotations

import errno
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

from leadflow.clock import Clock
from leadflow_local.apigw import (
    IAM,
    HttpRequest,
    HttpResponse,
    MalformedResponseError,
    RouteTable,
    build_event,
    error_response,
    iam_identity,
    new_request_id,
    translate_response,
)
from leadflow_local.errors import PortInUseError, StackError
from leadflow_local.lambda_runtime import LambdaFunction
from leadflow_local.local_routes import LocalRoutes
from leadflow_local.template import RouteSpec

log = logging.getLogger("leadflow_local.http")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit
#: The methods an HTTP API route can name (``ANY`` stands for all of them).
ROUTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def gateway_not_found() -> HttpResponse:
    """API Gateway's own answer to a request that no route takes, before any function runs."""
    return HttpResponse(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')


class Front:
    """Routes a request to a template route (through its handler) or to a local route."""

    def __init__(
        self,
        *,
        routes: RouteTable,
        functions: Mapping[str, LambdaFunction],
        admin_token: str,
        account: str,
        api_id: str,
        clock: Clock,
        local: LocalRoutes | None = None,
    ) -> None:
        self._routes = routes
        self._functions = functions
        self._admin_token = admin_token
        self._account = account
        self._api_id = api_id
        self._clock = clock
        self._local = local

    def dispatch(self, request: HttpRequest) -> HttpResponse:
        response, _ = self.dispatch_noted(request)
        return response

    def dispatch_noted(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The reply, and a note for the console line (the function that answered)."""
        if request.method not in ROUTED_METHODS:
            return gateway_not_found(), "no such method"
        if self._local is not None and self._local.handles(request):
            return self._local.handle(request, self.dispatch), "local"
        match = self._routes.match(request.method, request.raw_path)
        if match is None:
            if self._local is not None and request.method in ("GET", "HEAD"):
                page = self._local.demo(request.raw_path)
                if page is not None:
                    return page, "demo page"
            message = f"no route for {request.method} {request.raw_path}"
            return error_response(404, "not_found", message), "no route"
        route, path_parameters = match
        if route.authorizer is not None:
            refusal = self._check_token(request)
            if refusal is not None:
                return refusal, "unauthorised"
        event = self.event_for(route, path_parameters, request)
        request_id = event["requestContext"]["requestId"]
        function = self._functions[route.function]
        try:
            response = translate_response(function.invoke(event))
        except MalformedResponseError as error:
            log.error("%s returned a reply API Gateway rejects: %s", route.function, error)
            response = error_response(
                500, "internal", "the handler returned a malformed reply", request_id=request_id
            )
        except Exception:
            log.exception(
                "%s raised on %s %s (request id %s)",
                route.function,
                request.method,
                request.raw_path,
                request_id,
            )
            response = error_response(500, "internal", "an unexpected error occurred", request_id=request_id)
        response.headers.append(("apigw-requestid", request_id))
        return response, route.function

    def event_for(
        self, route: RouteSpec, path_parameters: dict[str, str], request: HttpRequest
    ) -> dict[str, Any]:
        """The payload 2.0 event for an (authorised) request on ``route``."""
        authorizer = None
        if route.authorizer is not None:
            authorizer = iam_identity(self._account) if route.authorizer == IAM else _token_claims()
        return build_event(
            route,
            path_parameters,
            request,
            request_id=new_request_id(),
            now=self._clock.now(),
            api_id=self._api_id,
            account=self._account,
            authorizer=authorizer,
        )

    def route_event(self, request: HttpRequest) -> tuple[str, dict[str, Any]]:
        """The function and event a request would reach, without invoking it (benchmarks, tools)."""
        match = self._routes.match(request.method, request.raw_path)
        if match is None:
            raise LookupError(f"no route for {request.method} {request.raw_path}")
        route, path_parameters = match
        return route.function, self.event_for(route, path_parameters, request)

    def _check_token(self, request: HttpRequest) -> HttpResponse | None:
        """IAM (SigV4) locally means ``Authorization: Bearer <token>``, the token the stack printed."""
        header = request.header("authorization") or ""
        if not header:
            return error_response(
                401,
                "unauthorized",
                "this route needs 'Authorization: Bearer <token>' (the admin token the stack printed)",
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self._admin_token.encode()
        ):
            return error_response(403, "forbidden", "the bearer token is not this stack's admin token")
        return None


def _token_claims() -> dict[str, Any]:
    return {"jwt": {"claims": {"sub": "leadflow-local-admin"}, "scopes": []}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    dispatch: Callable[[HttpRequest], tuple[HttpResponse, str]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "leadflow-local"
    sys_version = ""
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: one line per request is written by ``_serve`` instead."""

    def _serve(self) -> None:
        started = time.monotonic()
        body, refusal = self._read_body()
        if refusal is not None:
            self._write(refusal)
            self.close_connection = True
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        try:
            response, note = self.server.dispatch(request)
        except Exception:
            log.exception("the local stack failed on %s %s", self.command, self.path)
            response, note = (
                error_response(500, "internal", "the local stack failed; see its console"),
                "stack error",
            )
        self._write(response)
        took = (time.monotonic() - started) * 1000
        log.info("%s %s %d %s %.0f ms", self.command, self.path, response.status, note, took)

    def _read_body(self) -> tuple[bytes, HttpResponse | None]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    return b"", error_response(413, "payload_too_large", "the body exceeds 10 MB")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks), None
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return b"", error_response(413, "payload_too_large", "the body exceeds 10 MB")
        return (self.rfile.read(length) if length > 0 else b""), None

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        """Every method reaches ``_serve`` (TRACE, PROPFIND, ... included), so the front answers
        it as API Gateway would, in JSON, rather than the standard library's 501 page."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class HttpFront:
    """The listening socket, bound at construction so a taken port fails before anything starts."""

    def __init__(self, host: str, port: int) -> None:
        try:
            self._server = _Server((host, port), _Handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(host, port) from error
            raise StackError(f"cannot listen on {host}:{port}: {error.strerror}") from error
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread: Thread | None = None

    def serve(self, dispatch: Callable[[HttpRequest], tuple[HttpResponse, str]]) -> None:
        self._server.dispatch = dispatch
        self._thread = Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="http-front", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and close the socket; safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
