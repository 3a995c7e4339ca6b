"""Fires the template's schedules (Scheduler schedules and scheduled rules) on the stack's clock.

moto stores schedules and never fires them. Here each schedule knows its next firing in
virtual time; whoever moves time (the background ticker, or ``advance``) asks for the due
ones. Firings that fell due together are coalesced into one, at the time they are fired.

A failed delivery is retried as the target's ``RetryPolicy`` allows (at once: AWS spaces the
attempts out), then sent to its ``DeadLetterConfig`` queue, with the attributes Scheduler sets.
Every failure is counted per schedule (``describe``), so a test can insist on none.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from leadflow.clock import Clock, iso
from leadflow_local.activity import ActivityTracker
from leadflow_local.bus import TargetDelivery
from leadflow_local.errors import TemplateError
from leadflow_local.schedule_expr import Schedule, ScheduleError, parse_schedule
from leadflow_local.template import ScheduleSpec, TargetSpec

log = logging.getLogger("leadflow_local")


@dataclass
class _Entry:
    spec: ScheduleSpec
    expression: Schedule
    next_fire: datetime | None
    failures: int = 0


class Scheduler:
    """The enabled schedules of the template and when each fires next."""

    def __init__(
        self,
        specs: list[ScheduleSpec],
        *,
        clock: Clock,
        delivery: TargetDelivery,
        tracker: ActivityTracker,
        account: str,
        region: str,
    ) -> None:
        self._clock = clock
        self._delivery = delivery
        self._tracker = tracker
        self._account = account
        self._region = region
        now = clock.now()
        self._entries: list[_Entry] = []
        for spec in specs:
            if not spec.enabled:
                continue
            anchor = spec.start or now
            try:
                expression = parse_schedule(spec.expression, anchor=anchor)
            except ScheduleError as error:
                raise TemplateError(f"{spec.logical_id}: {error}") from error
            self._entries.append(_Entry(spec, expression, self._next(spec, expression, max(now, anchor))))

    def __len__(self) -> int:
        return len(self._entries)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": entry.spec.logical_id,
                "expression": entry.spec.expression,
                "next": iso(entry.next_fire) if entry.next_fire else None,
                "failures": entry.failures,
            }
            for entry in self._entries
        ]

    def next_due(self) -> datetime | None:
        """The earliest next firing of any schedule."""
        moments = [entry.next_fire for entry in self._entries if entry.next_fire is not None]
        return min(moments) if moments else None

    def fire_due(self, *, quiet: bool = False) -> int:
        """Fire every schedule whose time has come (once each), and plan its next firing.

        ``quiet`` logs successful firings at debug level (an ``advance`` reports them in sum).
        """
        now = self._clock.now()
        fired = 0
        for entry in self._entries:
            if entry.next_fire is None or entry.next_fire > now:
                continue
            scheduled = entry.next_fire
            entry.next_fire = self._next(entry.spec, entry.expression, now)
            with self._tracker.busy():
                entry.failures += self._fire(entry.spec, scheduled, quiet=quiet)
            fired += 1
        return fired

    @staticmethod
    def _next(spec: ScheduleSpec, expression: Schedule, after: datetime) -> datetime | None:
        moment = expression.next_after(after)
        if moment is not None and spec.end is not None and moment > spec.end:
            return None
        return moment

    def _fire(self, spec: ScheduleSpec, scheduled: datetime, *, quiet: bool) -> int:
        """Deliver to every target; the number of targets that failed every attempt."""
        label = f"schedule {spec.logical_id} ({spec.expression})"
        failed = 0
        for target in spec.targets:
            event = self._payload(spec, target.input, scheduled)
            # Scheduler sends Input as it is; a scheduled rule's target shapes the event itself.
            shaped = replace(target, input=None, input_path=None) if spec.source == "scheduler" else target
            attempts = 1 + max(0, target.retry_attempts)
            for attempt in range(1, attempts + 1):
                try:
                    self._delivery.deliver(shaped, event, label=label, quiet=quiet)
                    break
                except Exception as error:
                    if attempt < attempts:
                        log.warning("%s failed (attempt %d of %d): %r", label, attempt, attempts, error)
                        continue
                    failed += 1
                    log.exception("%s -> %s failed %d times", label, target.function or target.arn, attempts)
                    self._dead_letter(spec, target, event, error, attempts)
        return failed

    def _dead_letter(
        self, spec: ScheduleSpec, target: TargetSpec, event: Any, error: Exception, attempts: int
    ) -> None:
        if target.dead_letter_arn is None:
            log.error("%s has no DeadLetterConfig: the failed firing is dropped", spec.logical_id)
            return
        attributes = {
            "ERROR_CODE": type(error).__name__,
            "ERROR_MESSAGE": str(error)[:1000] or type(error).__name__,
            "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
            "RETRY_ATTEMPTS": str(attempts - 1),
            "SCHEDULE_ARN": spec.arn,
            "TARGET_ARN": target.arn,
        }
        try:
            self._delivery.dead_letter(target.dead_letter_arn, event, attributes)
        except Exception:
            log.exception(
                "%s: sending the failed firing to %s failed", spec.logical_id, target.dead_letter_arn
            )

    def _payload(self, spec: ScheduleSpec, text: str | None, scheduled: datetime) -> Any:
        if spec.source == "rule":
            return {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": self._account,
                "time": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self._region,
                "resources": [spec.arn],
                "detail": {},
            }
        if text is None:
            return {}
        context = {
            "<aws.scheduler.scheduled-time>": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "<aws.scheduler.execution-id>": str(uuid.uuid4()),
            "<aws.scheduler.schedule-arn>": spec.arn,
            "<aws.scheduler.attempt-number>": "1",
        }
        for placeholder, value in context.items():
            text = text.replace(placeholder, value)
        try:
            return json.loads(text)
        except ValueError:
            return text
