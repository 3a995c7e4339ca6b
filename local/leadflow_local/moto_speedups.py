"""Makes moto cost what a request touches, not the amount of data it holds.

moto answers correctly but walks everything it stores on its hot paths: every Query sorted the
whole table, every transaction deep-copied its tables, and every SQS send, receive and delete
walked every message of the queue, several times. The local stack runs for hours with a full
import's backlog queued, so these costs grew with the data and an import slowed down chunk by
chunk. The patches here are installed while a stack (or a benchmark) runs; each keeps moto's
answers (the same items in the same order, the same errors) and changes only the work done.
"""

from __future__ import annotations

import copy
import inspect
import logging
import threading
import time
from typing import Any

log = logging.getLogger("leadflow_local")


class MotoSpeedups:
    """Every speed-up the local stack installs with its moto server."""

    def __init__(self) -> None:
        self._parts = (ServerSpeedups(), DynamoSpeedups(), SqsSpeedups())

    def install(self) -> None:
        for part in self._parts:
            part.install()

    def uninstall(self) -> None:
        for part in reversed(self._parts):
            part.uninstall()


class ServerSpeedups:
    """moto's server lists its own package folder (about 200 ``isdir`` calls) on every request.

    The list cannot change while the process runs, so it is read once.
    """

    def __init__(self) -> None:
        self._original: Any = None

    def install(self) -> None:
        import moto.backends

        if self._original is not None:
            return
        self._original = moto.backends.list_of_moto_modules
        modules = tuple(self._original())
        moto.backends.list_of_moto_modules = lambda: modules

    def uninstall(self) -> None:
        import moto.backends

        if self._original is None:
            return
        moto.backends.list_of_moto_modules = self._original
        self._original = None


class DynamoSpeedups:
    """Makes moto's DynamoDB cost what a request touches, not the size of the table.

    moto 5.2 answers every Query by sorting every item of the table, and deep-copies every
    table a TransactWriteItems names, once per item, to roll back on a failed condition. A
    capture (a four-item transaction) took 0.2 s with 100 contacts and over a second with 200,
    and the process function's queries grew the same way. Installed while a stack runs:

    - a Query on a table's own key reads only its partition; a GSI query reads only the items
      holding its hash key, found through an index of that key kept beside moto's items (moto
      keeps none and sorted the whole table: 526 ms with 100,000 items, which the outbox sweep's
      eight shard queries paid every five minutes, and the minute run's sixteen every minute);
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
            "put_item": Table.put_item,
            "update_item": DynamoDBBackend.update_item,
        }
        original_transact, original_query, original_all_items, original_put, original_update = (
            self._originals.values()
        )
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

        def put_item(table: Any, *args: Any, **kwargs: Any) -> Any:
            item = original_put(table, *args, **kwargs)
            _index_item(table, item)
            return item

        def update_item(backend: Any, *args: Any, **kwargs: Any) -> Any:
            item = original_update(backend, *args, **kwargs)  # moto updates the stored item in place
            table_name = kwargs["table_name"] if "table_name" in kwargs else args[0]
            _index_item(backend.get_table(table_name), item)
            return item

        def table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
            if getattr(local, "sharing", False):
                return table  # the rollback copy moto takes; _restore_items restores the items instead
            return reconstruct(table, memo, *table.__reduce_ex__(4))

        def query(table: Any, *args: Any, **kwargs: Any) -> Any:
            bound = query_signature.bind(table, *args, **kwargs)
            hash_key = bound.arguments.get("hash_key")
            if bound.arguments.get("index_name"):
                conditions = bound.arguments.get("hash_key_conditions")
                if not conditions:
                    return original_query(table, *args, **kwargs)
                local.index_keys = (table, list(conditions))
                try:
                    return original_query(table, *args, **kwargs)
                finally:
                    local.index_keys = None
            if hash_key is None:
                return original_query(table, *args, **kwargs)
            local.partition = (table, hash_key)
            try:
                return original_query(table, *args, **kwargs)
            finally:
                local.partition = None

        def all_items(table: Any) -> Any:
            partition = getattr(local, "partition", None)
            index_keys = getattr(local, "index_keys", None)
            if partition is not None and partition[0] is table:
                bucket = table.items.get(partition[1])  # .get: table.items is a defaultdict
                if bucket is None:
                    return []
                items = list(bucket.values()) if table.range_key_attr else [bucket]
            elif index_keys is not None and index_keys[0] is table:
                items = _indexed_items(table, index_keys[1])
            else:
                return original_all_items(table)
            return sorted(
                items, key=lambda item: (item.hash_key, item.range_key) if item.range_key else item.hash_key
            )

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
        DynamoDBBackend.update_item = update_item  # type: ignore[method-assign,assignment]
        Table.put_item = put_item  # type: ignore[method-assign,assignment]
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
        Table.put_item = self._originals["put_item"]  # type: ignore[method-assign]
        DynamoDBBackend.update_item = self._originals["update_item"]  # type: ignore[method-assign]
        del Table.__deepcopy__  # type: ignore[attr-defined]
        self._originals = {}


def _every_item(table: Any) -> Any:
    for bucket in list(table.items.values()):
        if table.range_key_attr:
            yield from list(bucket.values())
        else:
            yield bucket


_INDEX = "_leadflow_index"


def _indexed_items(table: Any, conditions: list[tuple[str, Any]]) -> list[Any]:
    """The items holding the index's hash key values, through the index of its first attribute.

    The index maps an attribute's value to the keys of every item written with it since the
    index was built: a superset, since moto changes items in place and deletes without telling.
    Each candidate is checked against the stored item, and stale keys are dropped as found.
    """
    name, expected = conditions[0]
    indexes: dict[str, dict[Any, set[tuple[Any, Any]]]] = table.__dict__.setdefault(_INDEX, {})
    index = indexes.get(name)
    if index is None:
        index = {}
        for item in _every_item(table):
            if name in item.attrs:
                index.setdefault(item.attrs[name], set()).add((item.hash_key, item.range_key))
        indexes[name] = index
    candidates = index.get(expected)
    if not candidates:
        return []
    items = []
    for key in list(candidates):
        item = _stored(table, key)
        value = None if item is None else item.attrs.get(name)
        if value is None or value != expected:
            candidates.discard(key)
        elif _has_values(item, conditions):
            items.append(item)
    return items


def _index_item(table: Any, item: Any) -> None:
    """Adds a written item to the table's indexes (those built so far; the rest are built on use)."""
    for name, index in table.__dict__.get(_INDEX, {}).items():
        value = item.attrs.get(name)
        if value is not None:
            index.setdefault(value, set()).add((item.hash_key, item.range_key))


def _stored(table: Any, key: tuple[Any, Any]) -> Any:
    hash_key, range_key = key
    bucket = table.items.get(hash_key)  # .get: table.items is a defaultdict
    if bucket is None or range_key is None:
        return bucket
    return bucket.get(range_key)


def _has_values(item: Any, conditions: list[tuple[str, Any]]) -> bool:
    """Whether the item holds the index's hash key values: moto's own test, done before its sort."""
    for name, expected in conditions:
        value = item.attrs.get(name)
        if not value or value != expected:
            return False
    return True


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
        if previous is not None:  # a query may have dropped its key while the transaction ran
            _index_item(table, previous)
        if range_key is None:
            if previous is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = previous
        elif previous is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = previous


class SqsSpeedups:
    """Makes moto's SQS cost what a request touches, not the number of messages queued.

    moto 5.2 keeps a queue's messages in one list. A send computed every queue attribute,
    counts included (three walks of the list); a receive listed every visible message, then
    computed every attribute again for each message it returned (to check its retention
    period); a delete walked the list twice looking for the receipt handle. Each walk asked
    the clock twice per message, through ``datetime``. With 2,000 messages queued, a receive
    and delete of ten took half a second. Installed while a stack runs:

    - the clock is ``time.time()`` (what moto computes from ``datetime``, without the objects);
    - the visible messages are listed lazily: a receive stops at its count, and "is there
      one?" stops at the first;
    - a send or receive never computes the counts, which neither uses;
    - a delete finds its message by receipt handle, and replaces the list (copy-on-write, as
      moto does) under the queue's lock, so a concurrent send is never lost.
    """

    _local = threading.local()

    def __init__(self) -> None:
        self._originals: dict[str, Any] = {}
        self._handles: dict[str, Any] = {}

    def install(self) -> None:
        from moto.sqs import models

        if self._originals:
            return
        queue, backend = models.Queue, models.SQSBackend
        self._originals = {
            "unix_time": models.unix_time,
            "unix_time_millis": models.unix_time_millis,
            "messages": queue.__dict__["messages"],
            "delete_message": queue.delete_message,
            "mark_received": models.Message.mark_received,
            **{name: queue.__dict__[name] for name in _COUNTS},
            **{name: getattr(backend, name) for name in _COUNT_FREE},
        }
        original = self._originals
        local, handles = self._local, self._handles

        def unix_time(dt: Any = None) -> float:
            return time.time() if dt is None else float(original["unix_time"](dt))

        def unix_time_millis(dt: Any = None) -> float:
            return time.time() * 1000.0 if dt is None else float(original["unix_time_millis"](dt))

        def mark_received(message: Any, visibility_timeout: int | None = None) -> None:
            original["mark_received"](message, visibility_timeout)
            handles[message.receipt_handle] = message

        def delete_message(queue_model: Any, receipt_handle: str) -> None:
            if receipt_handle in queue_model.deleted_messages:
                return
            message = handles.get(receipt_handle)
            if message is None or not _remove(queue_model, message):
                original["delete_message"](queue_model, receipt_handle)  # moto's own search and error
                return
            queue_model.pending_messages.discard(message)
            queue_model.deleted_messages.update(message.all_receipt_handles)
            for handle in message.all_receipt_handles:
                handles.pop(handle, None)

        def counting(name: str) -> property:
            def count(queue_model: Any) -> int:
                if getattr(local, "count_free", False):
                    return 0  # inside a send or receive, which reads other attributes only
                return int(original[name].fget(queue_model))

            return property(count)

        def count_free(name: str) -> Any:
            method = original[name]

            def run(*args: Any, **kwargs: Any) -> Any:
                outer = getattr(local, "count_free", False)
                local.count_free = True
                try:
                    return method(*args, **kwargs)
                finally:
                    local.count_free = outer

            return run

        models.unix_time = unix_time
        models.unix_time_millis = unix_time_millis
        queue.messages = property(lambda queue_model: _VisibleMessages(queue_model._messages))  # type: ignore[assignment,method-assign]
        queue.delete_message = delete_message  # type: ignore[method-assign,assignment]
        models.Message.mark_received = mark_received  # type: ignore[method-assign,assignment]
        for name in _COUNTS:
            setattr(queue, name, counting(name))
        for name in _COUNT_FREE:
            setattr(backend, name, count_free(name))

    def uninstall(self) -> None:
        from moto.sqs import models

        if not self._originals:
            return
        original = self._originals
        models.unix_time = original["unix_time"]
        models.unix_time_millis = original["unix_time_millis"]
        models.Queue.messages = original["messages"]  # type: ignore[method-assign]
        models.Queue.delete_message = original["delete_message"]  # type: ignore[method-assign]
        models.Message.mark_received = original["mark_received"]  # type: ignore[method-assign]
        for name in _COUNTS:
            setattr(models.Queue, name, original[name])
        for name in _COUNT_FREE:
            setattr(models.SQSBackend, name, original[name])
        self._originals = {}
        self._handles.clear()


_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)
_COUNT_FREE = ("send_message", "send_message_batch", "receive_message")


class _VisibleMessages:
    """A queue's visible, undelayed messages, found as they are asked for (moto's ``messages``)."""

    __slots__ = ("_messages",)

    def __init__(self, messages: list[Any]) -> None:
        self._messages = messages  # moto replaces the list on delete, never edits it while iterated

    def __iter__(self) -> Any:
        for message in self._messages:
            now = time.time() * 1000.0
            if now > message.visible_at and not now < message.delayed_until:
                yield message

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _remove(queue: Any, message: Any) -> bool:
    """Takes ``message`` out of the queue's list, copy-on-write; False when the queue lacks it."""
    with queue._messages_lock:  # add_message appends under this lock
        remaining = list(queue._messages)
        try:
            remaining.remove(message)  # by identity: moto's Message defines no equality
        except ValueError:
            return False
        queue._messages = remaining
    return True
