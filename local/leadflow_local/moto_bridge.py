"""The embedded AWS: moto's threaded server, and the few places the stack reads its state.

The threaded server runs in this process, so its backends are plain Python objects here.
The stack reaches into them only where the API cannot do the job: SQS timers run on real
time (so a clock jump must move message delays and visibility timeouts with it), a waiting
poller wants to wake on a new message, and sent mail has no read API (nor a time of sending). Everything that touches
moto's internals lives in this module, so a moto upgrade has one place to check.
"""

from __future__ import annotations

import copy
import inspect
import logging
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

log = logging.getLogger("leadflow_local")


class MotoServer:
    """moto's ThreadedMotoServer on a free loopback port, quiet and reset on start and stop."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: Any = None
        self._dynamo_speedups = DynamoSpeedups()
        self.endpoint = ""

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self._dynamo_speedups.install()
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
        self._dynamo_speedups.uninstall()
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


class DynamoSpeedups:
    """Makes moto's DynamoDB cost what a request touches, not the size of the table.

    moto 5.2 answers every Query by sorting every item of the table, and deep-copies every
    table a TransactWriteItems names, once per item, to roll back on a failed condition. A
    capture (a four-item transaction) took 0.2 s with 100 contacts and over a second with 200,
    and the process function's queries grew the same way. Installed while a stack runs:

    - a Query on a table's own key reads only its partition (a GSI query still reads the table:
      moto keeps no index);
    - a transaction's table copies are no-ops, and its rollback restores just the items it
      names, from copies taken before it ran.

    Results are unchanged: the same items in the same order, the same all-or-nothing outcome
    and cancellation reasons.
    """

    _local = threading.local()

    def __init__(self) -> None:
        self._originals: dict[str, Any] = {}

    def install(self) -> None:
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table

        if self._originals:
            return
        self._originals = {
            "transact": DynamoDBBackend.transact_write_items,
            "query": Table.query,
            "all_items": Table.all_items,
        }
        original_transact, original_query, original_all_items = self._originals.values()
        local = self._local
        query_signature = inspect.signature(original_query)
        reconstruct: Any = copy._reconstruct  # type: ignore[attr-defined]  # deepcopy's own default

        def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
            snapshots = _snapshot_items(backend, transact_items)
            local.sharing = True
            try:
                original_transact(backend, transact_items)
            except Exception:
                _restore_items(snapshots)
                raise
            finally:
                local.sharing = False

        def table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
            if getattr(local, "sharing", False):
                return table  # the rollback copy moto takes; _restore_items restores the items instead
            return reconstruct(table, memo, *table.__reduce_ex__(4))

        def query(table: Any, *args: Any, **kwargs: Any) -> Any:
            bound = query_signature.bind(table, *args, **kwargs)
            hash_key = bound.arguments.get("hash_key")
            if bound.arguments.get("index_name") or hash_key is None:
                return original_query(table, *args, **kwargs)
            local.partition = (table, hash_key)
            try:
                return original_query(table, *args, **kwargs)
            finally:
                local.partition = None

        def all_items(table: Any) -> Any:
            partition = getattr(local, "partition", None)
            if partition is None or partition[0] is not table:
                return original_all_items(table)
            bucket = table.items.get(partition[1])  # .get: table.items is a defaultdict
            if bucket is None:
                return []
            items = list(bucket.values()) if table.range_key_attr else [bucket]
            return sorted(
                items, key=lambda item: (item.hash_key, item.range_key) if item.range_key else item.hash_key
            )

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
        Table.__deepcopy__ = table_deepcopy  # type: ignore[attr-defined]
        Table.query = query  # type: ignore[method-assign,assignment]
        Table.all_items = all_items  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table

        if not self._originals:
            return
        DynamoDBBackend.transact_write_items = self._originals["transact"]  # type: ignore[method-assign]
        Table.query = self._originals["query"]  # type: ignore[method-assign]
        Table.all_items = self._originals["all_items"]  # type: ignore[method-assign]
        del Table.__deepcopy__  # type: ignore[attr-defined]
        self._originals = {}


def _snapshot_items(backend: Any, transact_items: list[dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
    """A deep copy (or None) of every item the transaction names, before it runs."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    snapshots: dict[tuple[Any, ...], Any] = {}
    for entry in transact_items:
        try:
            kind, operation = next(iter(entry.items()))
            table = backend.tables[operation["TableName"]]
            key = operation["Item"] if kind == "Put" else operation["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_key, range_key)
        except Exception:  # a malformed entry: moto rejects it before writing anything
            log.debug("transaction entry not snapshotted", exc_info=True)
            continue
        identity = (id(table), hash_key, range_key)
        if identity not in snapshots:
            snapshots[identity] = (table, hash_key, range_key, copy.deepcopy(current))
    return snapshots


def _restore_items(snapshots: dict[tuple[Any, ...], Any]) -> None:
    for table, hash_key, range_key, previous in snapshots.values():
        if range_key is None:
            if previous is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = previous
        elif previous is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = previous
