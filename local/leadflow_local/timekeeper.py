"""The stack's time: the core's adjustable clock, moto's SQS timers, and the schedules, kept in step.

Two ways time moves. In the background, the clock runs at ``--clock-speed``; a ticker fires
due schedules and, when the speed is not 1, pulls moto's real-time SQS deadlines forward by
the extra virtual time. On ``advance``, time jumps: not in one leap but from one due moment
to the next (a schedule firing, a delayed message, a visibility timeout running out), with
the queues drained at each, so a 3-day jump runs a nurture wait and the email after it in
order. A fast schedule is thinned to at most ``max_schedule_steps`` firings per advance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadflow.clock import AdjustableClock, iso
from leadflow_local.moto_bridge import SqsTimers
from leadflow_local.scheduler import Scheduler

log = logging.getLogger("leadflow_local")

_TICK_SECONDS = 0.1
_MAX_STEPS = 100_000  # a guard against a loop that keeps producing due work forever


@dataclass(frozen=True)
class AdvanceReport:
    now: datetime
    advanced_by: timedelta
    steps: int
    schedule_firings: int
    messages_processed: int


class TimeKeeper:
    def __init__(
        self,
        clock: AdjustableClock,
        *,
        timers: SqsTimers,
        scheduler: Scheduler,
        drain: Callable[[], int],
        speed: float,
        max_schedule_steps: int = 100,
        paused: threading.Event | None = None,
    ) -> None:
        self.clock = clock
        self._timers = timers
        self._scheduler = scheduler
        self._drain = drain
        self._speed = speed
        self._max_schedule_steps = max(1, max_schedule_steps)
        self._lock = threading.Lock()
        self._paused = paused or threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._real_mark = datetime.now(UTC)
        self._virtual_mark = clock.now()

    # ------------------------------------------------------------ background
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="timekeeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.wait(_TICK_SECONDS):
            if not self._lock.acquire(blocking=False):
                continue  # an advance is moving time; it fires what falls due itself
            try:
                self._sync()
                if not self._paused.is_set():
                    self._scheduler.fire_due()
            except Exception:
                log.exception("the background clock tick failed")
            finally:
                self._lock.release()

    def wait_idle(self) -> None:
        """Return once no background firing is running."""
        with self._lock:
            pass

    def _sync(self) -> None:
        """Move moto's SQS deadlines by the virtual time that passed beyond real time."""
        real_now, virtual_now = datetime.now(UTC), self.clock.now()
        if self._speed != 1:
            extra = (virtual_now - self._virtual_mark) - (real_now - self._real_mark)
            self._timers.shift(extra)
        self._real_mark, self._virtual_mark = real_now, virtual_now

    def _jump(self, delta: timedelta) -> None:
        if delta <= timedelta(0):
            return
        self.clock.advance(delta)
        self._timers.shift(delta)
        self._virtual_mark += delta

    # --------------------------------------------------------------- advance
    def advance(self, delta: timedelta) -> AdvanceReport:
        """Move time forward by ``delta``, running everything that falls due on the way, in order."""
        with self._lock:
            self._sync()
            processed = self._drain()
            start = self.clock.now()
            target = start + delta
            min_gap = delta / self._max_schedule_steps
            last_firing: datetime | None = None
            steps = firings = 0
            while True:
                self._sync()
                now = self.clock.now()
                candidates = [target]
                sqs_due = self._timers.next_due_in()
                if sqs_due is not None:
                    candidates.append(now + sqs_due)
                schedule_due = self._scheduler.next_due()
                if schedule_due is not None:
                    if last_firing is not None:
                        schedule_due = max(schedule_due, last_firing + min_gap)
                    candidates.append(schedule_due)
                step_to = min(candidates)
                self._jump(step_to - now)
                fired = self._scheduler.fire_due(quiet=True)
                if fired:
                    firings += fired
                    last_firing = self.clock.now()
                processed += self._drain()
                steps += 1
                if step_to >= target:
                    break
                if steps >= _MAX_STEPS:
                    raise RuntimeError(f"advance gave up after {steps} steps: work keeps falling due")
            report = AdvanceReport(
                now=self.clock.now(),
                advanced_by=delta,
                steps=steps,
                schedule_firings=firings,
                messages_processed=processed,
            )
            log.info(
                "clock advanced by %s to %s: %d schedule firings, %d messages processed",
                delta,
                iso(report.now),
                firings,
                processed,
            )
            return report
