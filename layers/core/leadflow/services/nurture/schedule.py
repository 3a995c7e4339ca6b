"""The minute run: what is due goes to the step queue once, and the watchdog re-drives what is late.

It queries each shard of the due-time index (``DUE#<shard>``, GSI1) for lines up to now, paged: a
run reads only due lines, so it costs ``DUE_SHARDS`` queries plus the due work, whatever the
number of enrollments. Each line it sends is then moved ``OVERDUE_AFTER`` on (``mark_enqueued``,
conditional on the line being as read), so the next runs skip it while the worker does its job:
a due enrollment is enqueued once. The worker's next write of the enrollment puts a new line
(its next due time, or none). A line still there when it comes round again was missed (a lost
message, a dead-lettered step, a worker that keeps failing): it is counted in
``OverdueEnrollments`` (an alarm watches it), re-driven, and moved on again. Sending an enrollment
twice is harmless anyway: the worker ignores a message whose revision has moved on, and a
conditional write settles a race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from leadflow import clock
from leadflow.adapters import step_queue
from leadflow.adapters.step_queue import StepMessage
from leadflow.observability import logger, metrics
from leadflow.store import enrollments as enrollments_store

OVERDUE_AFTER = timedelta(minutes=5)
_SEND_CHUNK = 100


@dataclass(frozen=True, slots=True)
class MinuteReport:
    due: int = 0
    overdue: int = 0


def run(now: datetime | None = None) -> MinuteReport:
    moment = now or clock.now()
    late_before = moment - OVERDUE_AFTER
    due = overdue = 0
    batch: list[tuple[enrollments_store.Due, StepMessage]] = []
    for shard in range(enrollments_store.DUE_SHARDS):
        for line in enrollments_store.due(shard, moment):
            late = line.due_at < late_before or line.enqueued_at is not None
            due += 1
            overdue += late
            message = StepMessage(
                contact_id=line.contact_id,
                flow_id=line.flow_id,
                reason="overdue" if late else "due",
                revision=line.revision,
            )
            batch.append((line, message))
            if len(batch) >= _SEND_CHUNK:
                _send(batch, moment)
                batch = []
    if batch:
        _send(batch, moment)
    metrics.add_metric(name="DueEnrollments", unit="Count", value=due)
    metrics.add_metric(name="OverdueEnrollments", unit="Count", value=overdue)
    if overdue:
        logger.warning("overdue enrollments re-driven", extra={"count": overdue})
    return MinuteReport(due, overdue)


def _send(batch: list[tuple[enrollments_store.Due, StepMessage]], now: datetime) -> None:
    """Send, then move each sent line on; a line whose message did not go stays due for the next run."""
    failed: set[str] = set()
    try:
        step_queue.send_many([message for _, message in batch])
    except step_queue.EnqueueFailed as error:
        failed = set(error.failed)
        logger.warning("step messages not enqueued; the next run sends them", extra={"count": len(failed)})
    for line, _ in batch:
        if f"{line.contact_id}/{line.flow_id}" not in failed:
            enrollments_store.mark_enqueued(line, now, now + OVERDUE_AFTER)
