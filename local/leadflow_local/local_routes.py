"""Routes that exist only on the local stack: ``GET /``, and ``/_local/...`` to steer and inspect it.

``/_local/clock`` moves time, ``/_local/drain`` settles the queues, ``/_local/queues``,
``/_local/schedules`` and ``/_local/outbox`` show what the embedded AWS holds (the outbox as pages
to read and as JSON for tests; ``/_local/mail`` is its old name and redirects), and
``/_local/admin/...`` lets a browser on this machine read the admin API (it adds the token).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, parse_qsl

from leadflow.clock import iso
from leadflow_local import outbox
from leadflow_local.apigw import HttpRequest, HttpResponse, error_response
from leadflow_local.schedule_expr import ScheduleError, parse_duration
from leadflow_local.timekeeper import AdvanceReport

if TYPE_CHECKING:
    from leadflow_local.moto_bridge import SentMail

PREFIX = "/_local"


class StackControls(Protocol):
    """What the local routes need from the running stack."""

    admin_token: str
    url: str
    clock_speed: float

    def now(self) -> datetime: ...
    def advance(self, delta: timedelta) -> AdvanceReport: ...
    def drain(self) -> int: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    @property
    def is_paused(self) -> bool: ...
    def queue_counts(self) -> dict[str, dict[str, int]]: ...
    def schedules(self) -> list[dict[str, Any]]: ...
    def mail(self) -> list[SentMail]: ...
    def clear_mail(self) -> int: ...
    def demo_page(self, path: str) -> str: ...


Dispatch = Callable[[HttpRequest], HttpResponse]


def _json(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, indent=2, default=str).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body)


def _html(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], text.encode()
    )


def _page(text: str, status: int = 200) -> HttpResponse:
    """An outbox page: it runs no script, and neither does the email it shows (its frame inherits this)."""
    response = _html(text, status)
    response.headers += [
        ("Content-Security-Policy", "script-src 'none'; object-src 'none'"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return response


def _redirect(location: str, status: int = 303) -> HttpResponse:
    return HttpResponse(status, [("Location", location), ("Cache-Control", "no-store")])


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "localhost")


class LocalRoutes:
    def __init__(self, stack: StackControls) -> None:
        self._stack = stack
        self._reader = outbox.OutboxReader()

    def handles(self, request: HttpRequest) -> bool:
        path = request.raw_path
        return path == PREFIX or path.startswith(PREFIX + "/")

    def demo(self, path: str) -> HttpResponse | None:
        """A page of the demo website, or None when ``path`` is not one."""
        from leadflow_local.demo_page import PAGES

        return _html(self._stack.demo_page(path)) if path in PAGES else None

    def handle(self, request: HttpRequest, dispatch: Dispatch) -> HttpResponse:
        path = request.raw_path.removeprefix(PREFIX).rstrip("/") or "/"
        method = request.method
        if path == "/clock" and method == "GET":
            return _json(200, {"now": iso(self._stack.now()), "speed": self._stack.clock_speed})
        if path == "/clock" and method == "POST":
            return self._advance(request)
        if path == "/drain" and method == "POST":
            return _json(200, {"messages_processed": self._stack.drain(), "now": iso(self._stack.now())})
        if path == "/pause" and method == "POST":
            return self._pause(request)
        if path == "/queues" and method == "GET":
            return _json(200, self._stack.queue_counts())
        if path == "/schedules" and method == "GET":
            return _json(200, self._stack.schedules())
        if path == "/outbox" or path.startswith("/outbox/"):
            return self._outbox(request, path.removeprefix("/outbox").strip("/"))
        if (path == "/mail" or path.startswith("/mail/")) and method in ("GET", "HEAD"):
            return self._old_mail(request, path)
        if path.startswith("/admin/") and method in ("GET", "HEAD"):
            return self._admin(request, path.removeprefix("/admin"), dispatch)
        if path == "/" and method == "GET":
            return _json(200, {"routes": _INDEX})
        return error_response(404, "not_found", f"no local route {method} {request.raw_path}")

    def _advance(self, request: HttpRequest) -> HttpResponse:
        try:
            payload = _json_or_form(request.body)
            amount = payload.get("advance") if isinstance(payload, dict) else None
            if amount is None:
                raise ScheduleError('send {"advance": "3d"} (s, m, h, d, w, or an ISO 8601 duration)')
            delta = parse_duration(amount)
        except (ValueError, UnicodeDecodeError) as error:
            return error_response(422, "validation_failed", str(error), fields={"advance": str(error)})
        report = self._stack.advance(delta)
        return _json(
            200,
            {
                "now": iso(report.now),
                "advanced_by_seconds": report.advanced_by.total_seconds(),
                "steps": report.steps,
                "schedule_firings": report.schedule_firings,
                "messages_processed": report.messages_processed,
            },
        )

    def _pause(self, request: HttpRequest) -> HttpResponse:
        try:
            payload = _json_or_form(request.body)
        except UnicodeDecodeError:
            payload = None
        wanted = payload.get("paused") if isinstance(payload, dict) else None
        if wanted not in (True, False, "true", "false"):
            message = 'send {"paused": true} or {"paused": false}'
            return error_response(422, "validation_failed", message, fields={"paused": message})
        if wanted in (True, "true"):
            self._stack.pause()
        else:
            self._stack.resume()
        return _json(200, {"paused": self._stack.is_paused})

    def _outbox(self, request: HttpRequest, rest: str) -> HttpResponse:
        """The outbox: the list, one message (``{index}``, ``{index}/raw``), and emptying it."""
        method = request.method
        query = parse_qs(request.raw_query)
        wants_json = "json" in query.get("format", [])
        if rest == "" and method in ("GET", "HEAD"):
            filters = {name: query[name][-1] for name in outbox.FILTERS if name in query}
            messages = [
                message
                for message in self._reader.read(self._stack.mail())
                if outbox.matches(message, filters)
            ]
            if wants_json:
                return _json(200, [message.to_json(self._stack.url) for message in reversed(messages)])
            return _page(outbox.list_page(messages, filters))
        if (rest == "" and method == "DELETE") or (rest == "clear" and method == "POST"):
            cleared = self._stack.clear_mail()
            if method == "POST" and not wants_json:  # the page's button: back to the empty list
                return _redirect(f"{PREFIX}/outbox")
            return _json(200, {"cleared": cleared})
        index_text, _, view = rest.partition("/")
        if method not in ("GET", "HEAD") or view not in ("", "raw"):
            return error_response(404, "not_found", f"no local route {method} {request.raw_path}")
        sent = self._stack.mail()
        if not (index_text.isascii() and index_text.isdigit()) or int(index_text) >= len(sent):
            message = f"no message number {index_text} in the outbox ({len(sent)} sent)"
            if wants_json or view:
                return error_response(404, "not_found", message)
            return _page(outbox.not_found_page(message), status=404)
        index = int(index_text)
        if view == "raw":
            raw = sent[index].raw
            body = raw if raw is not None else "(sent as simple content: SES keeps no raw message)"
            return HttpResponse(
                200,
                [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
                body.encode("utf-8", errors="replace"),
            )
        parsed = self._reader.read(sent)[index]
        if wants_json:
            return _json(200, parsed.to_json(self._stack.url))
        return _page(outbox.message_page(parsed))

    def _old_mail(self, request: HttpRequest, path: str) -> HttpResponse:
        """``/_local/mail`` was the outbox's first name: scripts that used it land on the outbox."""
        rest = path.removeprefix("/mail")
        query = request.raw_query or ("format=json" if rest == "" else "")
        return _redirect(f"{PREFIX}/outbox{rest}" + (f"?{query}" if query else ""), status=308)

    def _admin(self, request: HttpRequest, rest: str, dispatch: Dispatch) -> HttpResponse:
        """Read-only admin API for a browser on this machine; the token never reaches the page."""
        if not _is_loopback(request.source_ip):
            return error_response(
                403, "forbidden", "the admin viewer answers requests from this machine only"
            )
        query = request.raw_query
        target = f"/v1/admin{rest}" + (f"?{query}" if query else "")
        headers = [
            (key, value) for key, value in request.headers if key.lower() not in ("authorization", "cookie")
        ]
        headers.append(("Authorization", f"Bearer {self._stack.admin_token}"))
        return dispatch(replace(request, target=target, headers=headers))


def _json_or_form(body: bytes) -> Any:
    """JSON from scripts, or a native form post from the demo page (curl -d sends either)."""
    text = body.decode() or "{}"
    try:
        return json.loads(text)
    except ValueError:
        return dict(parse_qsl(text))


_INDEX = {
    "GET /": "demo page with the definitions' forms (and GET /pricing, a tracked page)",
    "GET /_local/clock": "the stack's current time and speed",
    "POST /_local/clock": 'advance time, e.g. {"advance": "3d"}; answers when everything that fell due ran',
    "POST /_local/drain": "process queued messages until the queues are idle",
    "POST /_local/pause": 'hold (or, with {"paused": false}, resume) queue pollers and schedule ticks',
    "GET /_local/queues": "visible, in-flight and delayed messages per queue",
    "GET /_local/schedules": "schedules and their next firing",
    "GET /_local/outbox": "every email sent through SES, newest first (?format=json for tests)",
    "GET /_local/outbox/{index}": "one email: HTML part sandboxed, text part, headers (?format=json; /raw)",
    "DELETE /_local/outbox": "empty the outbox (POST /_local/outbox/clear from a form)",
    "GET /_local/mail": "the outbox's old name: redirects to /_local/outbox?format=json",
    "GET /_local/admin/{path}": "GET /v1/admin/{path} with the admin token (this machine only)",
}
