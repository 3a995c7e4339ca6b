"""Fires the template's schedules (Scheduler schedules and scheduled rules) on the stack's clock.

moto stores schedules and never fires them. Here each schedule knows its next firing in
virtual time; whoever moves time (the background ticker, or ``advance``) asks for the due
ones. Firings that fell due together are coalesced into one, at the time they are fired.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow.clock import Clock, iso
from leadflow_local.activity import ActivityTracker
from leadflow_local.bus import TargetDelivery
from leadflow_local.schedule_expr import Schedule, parse_schedule
from leadflow_local.template import ScheduleSpec

log = logging.getLogger("leadflow_local")


@dataclass
class _Entry:
    spec: ScheduleSpec
    expression: Schedule
    next_fire: datetime | None


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
            expression = parse_schedule(spec.expression, anchor=anchor, timezone=spec.timezone)
            self._entries.append(_Entry(spec, expression, self._next(spec, expression, max(now, anchor))))

    def __len__(self) -> int:
        return len(self._entries)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": entry.spec.logical_id,
                "expression": entry.spec.expression,
                "next": iso(entry.next_fire) if entry.next_fire else None,
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
                self._fire(entry.spec, scheduled, quiet=quiet)
            fired += 1
        return fired

    @staticmethod
    def _next(spec: ScheduleSpec, expression: Schedule, after: datetime) -> datetime | None:
        moment = expression.next_after(after)
        if moment is not None and spec.end is not None and moment > spec.end:
            return None
        return moment

    def _fire(self, spec: ScheduleSpec, scheduled: datetime, *, quiet: bool) -> None:
        label = f"schedule {spec.logical_id} ({spec.expression})"
        for target in spec.targets:
            event = self._payload(spec, target.input, scheduled)
            try:
                if spec.source == "scheduler":
                    # Scheduler sends Input as it is; the target's own shaping fields do not exist there.
                    self._delivery.deliver(_without_shaping(target), event, label=label, quiet=quiet)
                else:
                    self._delivery.deliver(
                        target, event, label=label, rule_name=spec.name, rule_arn=spec.arn, quiet=quiet
                    )
            except Exception:
                log.exception("%s -> %s failed (not retried locally)", label, target.function or target.arn)

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


def _without_shaping(target: Any) -> Any:
    from dataclasses import replace

    return replace(target, input=None, input_path=None, input_transformer=None)
