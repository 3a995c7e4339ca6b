"""The embedded AWS: moto's threaded server, and the few places the stack reads its state.

The threaded server runs in this process, so its backends are plain Python objects here.
The stack reaches into them only where the API cannot do the job: SQS timers run on real
time (so a clock jump must move message delays and visibility timeouts with it), a waiting
poller wants to wake on a new message, and sent mail has no read API (nor a time of sending).
Everything that touches moto's internals lives here and in ``moto_speedups`` (which makes its
hot paths cost what a request touches), so a moto upgrade has two places to check.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from leadflow_local.moto_speedups import MotoSpeedups

log = logging.getLogger("leadflow_local")


class MotoServer:
    """moto's ThreadedMotoServer on a free loopback port, quiet and reset on start and stop."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: Any = None
        self._speedups = MotoSpeedups()
        self.endpoint = ""

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self._speedups.install()
        MailStamps.install()
        self._server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.reset()  # backends are process globals: a previous stack's resources must not leak in
        return self.endpoint

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            self.reset()
        except OSError:
            log.debug("moto reset at stop failed", exc_info=True)
        self._server.stop()
        self._server = None
        self._speedups.uninstall()
        MailStamps.uninstall()


class SqsTimers:
    """Message delays and visibility timeouts in moto's SQS, which count real milliseconds."""

    def __init__(self, account: str, region: str) -> None:
        self._account = account
        self._region = region

    def _queues(self) -> list[Any]:
        from moto.sqs.models import sqs_backends

        return list(sqs_backends[self._account][self._region].queues.values())

    def _queue(self, name: str) -> Any | None:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self._account][self._region].queues.get(name)

    def shift(self, delta: timedelta) -> None:
        """Bring every pending delay and visibility deadline ``delta`` closer, as if it had passed."""
        millis = delta.total_seconds() * 1000
        if millis <= 0:
            return
        for queue in self._queues():
            for message in list(queue._messages):
                if message.visible_at:
                    message.visible_at -= millis
                if message.delayed_until:
                    message.delayed_until -= millis

    def next_due_in(self) -> timedelta | None:
        """Real time until the next delayed or invisible message becomes receivable, if any."""
        now = time.time() * 1000
        pending = [
            moment
            for queue in self._queues()
            for message in list(queue._messages)
            for moment in (message.visible_at, message.delayed_until)
            if moment > now
        ]
        return timedelta(milliseconds=min(pending) - now) if pending else None

    def wait_for_messages(self, queue_name: str, timeout: float) -> None:
        """Block until the queue has a receivable message or ``timeout`` passes (woken by a send)."""
        queue = self._queue(queue_name)
        if queue is None or not hasattr(queue, "wait_for_messages"):
            time.sleep(timeout)
            return
        queue.wait_for_messages(timeout)

    def counts(self) -> dict[str, dict[str, int]]:
        """Visible, in-flight and delayed counts per queue, for ``GET /_local/queues``."""
        result = {}
        for queue in self._queues():
            messages = list(queue._messages)
            delayed = sum(1 for message in messages if message.delayed)
            invisible = sum(1 for message in messages if not message.visible)
            result[queue.name] = {
                "visible": len(messages) - delayed - invisible,
                "in_flight": invisible,
                "delayed": delayed,
            }
        return result


@dataclass(frozen=True, slots=True)
class SentMail:
    """One message SES accepted, as moto keeps it: the raw MIME text, or a simple message's parts."""

    id: str
    source: str
    destinations: list[str]
    raw: str | None = None
    subject: str = ""
    body: str = ""
    sent_at: datetime | None = None


def sent_mail(account: str, region: str) -> list[SentMail]:
    """Every message SES (v1 or v2) accepted, oldest first, with the stack time it was accepted."""
    from moto.ses.models import ses_backends

    result = []
    for message in list(ses_backends[account][region].sent_messages):
        identifier = str(getattr(message, "id", "") or "")
        destinations = getattr(message, "destinations", None) or []
        if isinstance(destinations, dict):  # a simple message: {"ToAddresses": [...], ...}
            destinations = [address for group in destinations.values() for address in group or []]
        result.append(
            SentMail(
                id=identifier,
                source=str(getattr(message, "source", "") or ""),
                destinations=[str(address) for address in destinations],
                raw=getattr(message, "raw_data", None),
                subject=str(getattr(message, "subject", None) or getattr(message, "template", "") or ""),
                body=str(getattr(message, "body", None) or getattr(message, "template_data", "") or ""),
                sent_at=MailStamps.stamps.get(identifier),
            )
        )
    return result


def clear_sent_mail(account: str, region: str) -> int:
    """Forgets every sent message (moto keeps them in a plain list); the number forgotten."""
    from moto.ses.models import ses_backends

    messages = ses_backends[account][region].sent_messages
    count = len(messages)
    messages.clear()
    return count


class MailStamps:
    """Notes the stack time at which SES accepted each message: moto records no time.

    Wraps the SES backend's send methods (SES v2 sends through them too) while a stack runs;
    the time comes from ``leadflow.clock``, so a message sent after ``advance("3d")`` shows
    the stack's date, as the flows see it.
    """

    stamps: ClassVar[dict[str, datetime]] = {}
    _originals: ClassVar[dict[str, Any]] = {}
    _METHODS = ("send_email", "send_raw_email", "send_templated_email")

    @classmethod
    def install(cls) -> None:
        from moto.ses.models import SESBackend

        if cls._originals:
            return
        for name in cls._METHODS:
            original = getattr(SESBackend, name)
            cls._originals[name] = original
            setattr(SESBackend, name, cls._stamping(original))

    @classmethod
    def uninstall(cls) -> None:
        from moto.ses.models import SESBackend

        for name, original in cls._originals.items():
            setattr(SESBackend, name, original)
        cls._originals = {}
        cls.stamps.clear()

    @classmethod
    def _stamping(cls, original: Any) -> Any:
        from leadflow import clock

        def send(backend: Any, *args: Any, **kwargs: Any) -> Any:
            message = original(backend, *args, **kwargs)
            identifier = getattr(message, "id", None)
            if identifier:
                cls.stamps[str(identifier)] = clock.now()
            return message

        return send


def pattern_matches(pattern: dict[str, Any], document: dict[str, Any]) -> bool:
    """EventBridge pattern matching (moto's matcher), for Lambda event source filters."""
    import json

    from moto.events.models import EventPattern

    event: Any = document
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))
