"""moto with DynamoDB requests made atomic, as they are in AWS: its threaded server, and its
in-process mock.

moto rolls a cancelled transaction back by restoring a snapshot of the table, so two
transactions running at once on its threaded server can undo each other's writes. DynamoDB
applies each request atomically; serialising DynamoDB requests (and only those: an SQS long
poll must not block the world) gives moto the same semantics while clients stay concurrent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

_DYNAMODB_TARGET = "DynamoDB_"


class _AtomicDynamoDB:
    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(_DYNAMODB_TARGET):
            with self._lock:
                return list(self._app(environ, start_response))
        return self._app(environ, start_response)


class AtomicMotoServer(ThreadedMotoServer):
    """A ThreadedMotoServer whose DynamoDB requests never interleave."""

    def _server_entry(self) -> None:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = _AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextmanager
def atomic_in_process_dynamodb() -> Iterator[None]:
    """The in-process mock's DynamoDB requests, one at a time: moto checks a condition and then
    writes, so two threads could both pass ``#status = :claimed`` before either wrote (a test of
    two workers racing for one email once saw both win). DynamoDB decides each request alone."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    lock = threading.RLock()

    def call_action(handler: Any) -> Any:
        with lock:
            return original(handler)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]
