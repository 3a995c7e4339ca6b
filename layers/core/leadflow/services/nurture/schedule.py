"""The minute run: what is due goes to the step queue, and the watchdog counts what is late.

It queries each shard of the due-time index (``DUE#<shard>``, GSI1) for ``due <= now``, paged:
a run reads only due lines, so it costs ``DUE_SHARDS`` queries plus the due work, whatever the
number of enrollments. An enrollment still in the index more than ``OVERDUE_AFTER`` past its due
time was missed (a lost message, a dead-lettered step): it is counted in ``OverdueEnrollments``
(an alarm watches it) and re-driven like the rest. Sending an enrollment twice is harmless: the
worker ignores a message whose revision has moved on, and a conditional write settles a race.
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
    batch: list[StepMessage] = []
    for shard in range(enrollments_store.DUE_SHARDS):
        for line in enrollments_store.due(shard, moment):
            late = line.due_at < late_before
            due += 1
            overdue += late
            batch.append(
                StepMessage(
                    contact_id=line.contact_id,
                    flow_id=line.flow_id,
                    reason="overdue" if late else "due",
                    revision=line.revision,
                )
            )
            if len(batch) >= _SEND_CHUNK:
                step_queue.send_many(batch)
                batch = []
    if batch:
        step_queue.send_many(batch)
    metrics.add_metric(name="DueEnrollments", unit="Count", value=due)
    metrics.add_metric(name="OverdueEnrollments", unit="Count", value=overdue)
    if overdue:
        logger.warning("overdue enrollments re-driven", extra={"count": overdue})
    return MinuteReport(due, overdue)
