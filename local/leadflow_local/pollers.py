"""Lambda's SQS poller: batches, partial batch failures, visibility timeouts and redrive.

Lambda long-polls the queue, so a message is received as soon as it is sent. With a batching
window of 0 it invokes the function with what that one poll returned (at most ten messages);
with a window it keeps receiving until ``BatchSize`` messages are in hand or the window has
passed since the first. It deletes what succeeded. A failed message is not touched: it
reappears after the queue's visibility timeout, and SQS (moto) moves it to the dead-letter
queue once it was received ``maxReceiveCount`` times.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import traceback
from typing import Any

from leadflow_local.activity import ActivityTracker
from leadflow_local.lambda_runtime import LambdaFunction
from leadflow_local.moto_bridge import SqsTimers, pattern_matches
from leadflow_local.template import SqsTriggerSpec

log = logging.getLogger("leadflow_local")

_IDLE_WAIT = 0.2  # seconds a background poller waits on an empty queue unless a send wakes it (long poll)
_SPIN_GUARD = 0.01  # pause when a wait returned at once yet nothing was received (e.g. a drain took it)


class QueuePoller:
    """Receives batches from one queue on a background thread, and on demand for drains."""

    def __init__(
        self,
        *,
        queue_name: str,
        queue_url: str,
        batch_size: int,
        window_seconds: float,
        sqs: Any,
        timers: SqsTimers,
        tracker: ActivityTracker,
        label: str,
        paused: threading.Event | None = None,
    ) -> None:
        self.queue_name = queue_name
        self._paused = paused or threading.Event()
        self._queue_url = queue_url
        self._batch_size = batch_size
        self._window_seconds = window_seconds
        self._sqs = sqs
        self._timers = timers
        self._tracker = tracker
        self._label = label
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._hurry = threading.Event()  # a drain is waiting: stop filling the batching window
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- control
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"poll-{self.queue_name}", daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poll_once(self, *, flush: bool = True) -> int:
        """Receive one batch and process it; the number of messages handled (0 when empty).

        ``flush`` skips the batching window, so a drain never waits to fill a batch.
        """
        if flush:
            self._hurry.set()
        with self._lock:
            if flush:
                self._hurry.clear()
            elif self._paused.is_set():
                return 0  # paused while this background poll waited for the lock
            batch = self._receive(flush)
            if not batch:
                return 0
            with self._tracker.busy():
                self._process(batch)
            return len(batch)

    def _process(self, batch: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return self._label

    def wait_idle(self) -> None:
        """Return once no batch is being processed (the next one waits while paused)."""
        self._hurry.set()
        with self._lock:
            self._hurry.clear()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._paused.is_set():
                self._stopping.wait(0.05)
                continue
            try:
                handled = self.poll_once(flush=False)
            except Exception:  # the embedded AWS went away (stop) or a bug: keep the stack serving
                if self._stopping.is_set():
                    return
                log.exception("%s: polling failed; retrying in a second", self._label)
                self._stopping.wait(1)
                continue
            if not handled:
                waited = time.monotonic()
                self._timers.wait_for_messages(self.queue_name, _IDLE_WAIT)
                if time.monotonic() - waited < _SPIN_GUARD:
                    self._stopping.wait(_SPIN_GUARD)

    # ------------------------------------------------------------- receive
    def _receive(self, flush: bool) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + (0 if flush else self._window_seconds)
        while len(batch) < self._batch_size and not self._stopping.is_set():
            received = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(10, self._batch_size - len(batch)),
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(received)
            if received and self._window_seconds <= 0:
                break  # no window: Lambda invokes with what one poll returned
            if received:
                continue
            remaining = deadline - time.monotonic()
            if not batch or remaining <= 0 or self._hurry.is_set():
                break
            self._timers.wait_for_messages(self.queue_name, min(remaining, 0.05))
        return batch

    def _delete(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), 10):
            chunk = receipt_handles[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(chunk)],
            )


class SqsEventSourcePoller(QueuePoller):
    """An SQS event source mapping of the template: batches of records into one function."""

    def __init__(
        self,
        trigger: SqsTriggerSpec,
        function: LambdaFunction,
        *,
        sqs: Any,
        queue_url: str,
        timers: SqsTimers,
        tracker: ActivityTracker,
        region: str,
        paused: threading.Event | None = None,
    ) -> None:
        super().__init__(
            queue_name=trigger.queue_name,
            queue_url=queue_url,
            batch_size=trigger.batch_size,
            window_seconds=trigger.window_seconds,
            sqs=sqs,
            timers=timers,
            tracker=tracker,
            label=f"{function.logical_id} <- {trigger.queue_name}",
            paused=paused,
        )
        self.trigger = trigger
        self.function = function
        self._region = region

    def describe(self) -> str:
        window = f", window {self.trigger.window_seconds:g} s" if self.trigger.window_seconds else ""
        partial = ", partial batch failures" if self.trigger.report_failures else ""
        settings = f"batch {self.trigger.batch_size}{window}{partial}"
        return f"{self.queue_name} -> {self.function.logical_id} ({settings})"

    # ------------------------------------------------------------- process
    def _process(self, batch: list[dict[str, Any]]) -> None:
        records = [self._record(message) for message in batch]
        if self.trigger.filters:
            kept = [record for record in records if self._passes_filters(record)]
            dropped = [record for record in records if record not in kept]
            self._delete(
                [record["receiptHandle"] for record in dropped]
            )  # Lambda deletes what filters reject
            records = kept
            if not records:
                return
        started = time.monotonic()
        failed_ids = self._invoke(records)
        self._delete([record["receiptHandle"] for record in records if record["messageId"] not in failed_ids])
        took = (time.monotonic() - started) * 1000
        ok = len(records) - len(failed_ids)
        outcome = f"{ok} ok" + (
            f", {len(failed_ids)} failed (retried after the visibility timeout)" if failed_ids else ""
        )
        log.info(
            "%s: %d message%s, %s (%.0f ms)",
            self._label,
            len(records),
            "" if len(records) == 1 else "s",
            outcome,
            took,
        )

    def _invoke(self, records: list[dict[str, Any]]) -> set[str]:
        """The ids of records that failed: all of them when the handler raised."""
        all_ids = {record["messageId"] for record in records}
        try:
            result = self.function.invoke({"Records": records})
        except Exception as error:
            # By type, ids and frames: an exception's text can quote a body, which holds personal data.
            log.error(
                "%s: the handler raised %s; the whole batch (%s) returns to the queue\n%s",
                self._label,
                type(error).__name__,
                ", ".join(sorted(all_ids)),
                "".join(traceback.format_list(traceback.extract_tb(error.__traceback__))).rstrip(),
            )
            return all_ids
        if not self.trigger.report_failures or not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures")
        if not failures:
            return set()
        failed: set[str] = set()
        for item in failures if isinstance(failures, list) else [None]:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in all_ids:
                log.error("%s: malformed batchItemFailures %r: the whole batch fails", self._label, failures)
                return all_ids
            failed.add(identifier)
        return failed

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        """An SQS message in the shape Lambda delivers it (camelCase, lower-case attribute values)."""
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: _message_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.trigger.queue_arn,
            "awsRegion": self._region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _passes_filters(self, record: dict[str, Any]) -> bool:
        view = dict(record)
        try:
            body = json.loads(record["body"])
        except ValueError:
            body = record["body"]
        view["body"] = body
        return any(pattern_matches(pattern, view) for pattern in self.trigger.filters)


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute
