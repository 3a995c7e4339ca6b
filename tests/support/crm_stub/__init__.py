"""A local stand-in for the CRMs' HTTP APIs: stateful, in each vendor's documented formats.

One ``http.server`` in a thread on 127.0.0.1 (an ephemeral port), answering as Salesforce,
Dynamics 365 (Dataverse and Entra ID's token endpoint) or SugarCRM would, with the error bodies
and headers from the recorded exchanges in tests/fixtures/crm/<vendor>/. Faults are injected by
name (``expire_token``, ``throttle``, ``error_500``, ``not_json``) for the next N API calls.

Tests read the vendor's state (``stub.state``, or ``GET /_stub/state`` over HTTP) and count the
requests it served (``stub.requests``). ``python -m tests.support.crm_stub salesforce --port N``
runs one as its own process, next to the local stack.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crm"
FAULTS = ("expire_token", "throttle", "error_500", "not_json")


def fixture(vendor: str, name: str) -> Any:
    """A recorded exchange (``{"request": ..., "response": {"status", "headers", "body"}}``)."""
    return json.loads((FIXTURES / vendor / f"{name}.json").read_text())


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def encoded(self) -> tuple[bytes, str]:
        if self.raw is not None:
            return self.raw, self.headers.get("Content-Type", "text/html")
        if self.body is None:
            return b"", "application/json"
        return json.dumps(self.body).encode(), "application/json"


def recorded(vendor: str, name: str, /, **replace: str) -> Reply:
    """The response of a recorded exchange; ``replace`` fills its ``{placeholders}`` (body and headers)."""
    text = json.dumps(fixture(vendor, name)["response"])
    for key, value in replace.items():
        text = text.replace("{" + key + "}", json.dumps(value)[1:-1])
    response = json.loads(text)
    headers = dict(response.get("headers") or {})
    if "raw" in response:
        return Reply(response["status"], headers=headers, raw=response["raw"].encode())
    return Reply(response["status"], response.get("body"), headers)


class VendorStub:
    """One vendor's state and rules; subclasses answer ``api`` calls in the vendor's format."""

    vendor = "base"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.faults: list[str] = []
        self.counter = 0

    # -- what tests use ------------------------------------------------------------------------

    def fail_next(self, fault: str, times: int = 1) -> None:
        """The next ``times`` API calls (not token calls) get ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        with self.lock:
            if fault == "expire_token":
                self.expire_tokens()
            else:
                self.faults.extend([fault] * times)

    def request_count(self, *, api_only: bool = False) -> int:
        with self.lock:
            return sum(1 for r in self.requests if not (api_only and self.is_token_request(r)))

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    def new_id(self, prefix: str, width: int = 18) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:0{width - len(prefix)}d}"

    # -- for subclasses ------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def is_token_request(self, request: Request) -> bool:
        raise NotImplementedError

    def expire_tokens(self) -> None:
        raise NotImplementedError

    def fault_reply(self, fault: str) -> Reply:
        raise NotImplementedError

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError

    def seed(self, data: Mapping[str, Any]) -> None:
        raise NotImplementedError

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/_stub/"):
            return self._control(request)
        with self.lock:
            self.requests.append(request)
            if not self.is_token_request(request) and self.faults:
                return self.fault_reply(self.faults.pop(0))
            return self.answer(request)

    def _control(self, request: Request) -> Reply:
        with self.lock:
            if request.path == "/_stub/state" and request.method == "GET":
                return Reply(200, {"state": self.state, "requests": len(self.requests)})
            if request.path == "/_stub/fault" and request.method == "POST":
                body = request.json()
                self.fail_next(body["fault"], int(body.get("times", 1)))
                return Reply(204)
            if request.path == "/_stub/seed" and request.method == "POST":
                self.seed(request.json())
                return Reply(204)
        return Reply(404, {"error": "no such stub control"})


class _Handler(BaseHTTPRequestHandler):
    stub: VendorStub
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection does not hold its thread forever
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            reply = self.stub.handle(request)
        except Exception as error:  # a stub bug shows as a 599 the test will notice, never a hang
            reply = Reply(599, {"stub_error": repr(error)})
        payload, content_type = reply.encoded()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read stub.requests
        return


class StubServer:
    """The stub on 127.0.0.1 in a daemon thread; ``url`` is its base URL."""

    def __init__(self, stub: VendorStub, *, port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"stub": stub})
        self.stub = stub
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"crm-stub-{stub.vendor}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def make_stub(vendor: str) -> VendorStub:
    if vendor == "salesforce":
        from tests.support.crm_stub.salesforce import SalesforceStub

        return SalesforceStub()
    if vendor == "dynamics":
        from tests.support.crm_stub.dynamics import DynamicsStub

        return DynamicsStub()
    if vendor == "sugarcrm":
        from tests.support.crm_stub.sugarcrm import SugarStub

        return SugarStub()
    raise ValueError(f"unknown vendor {vendor!r}")


@contextmanager
def running(vendor: str) -> Iterator[StubServer]:
    server = StubServer(make_stub(vendor)).start()
    try:
        yield server
    finally:
        server.stop()
