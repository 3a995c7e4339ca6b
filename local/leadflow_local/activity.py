"""Knows when background work (a queue batch, a schedule firing) runs, so ``drain`` can tell idle.

A drain pass that processed nothing proves the stack idle only if no background thread began
or finished work meanwhile: the generation counter moves on both, and the pass is repeated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ActivityTracker:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._in_flight = 0
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._condition:
            return self._generation

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark a unit of work that may produce more work (messages, events)."""
        with self._condition:
            self._in_flight += 1
            self._generation += 1
        try:
            yield
        finally:
            with self._condition:
                self._in_flight -= 1
                self._generation += 1
                self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no unit of work is running; False if ``timeout`` passed first."""
        with self._condition:
            return self._condition.wait_for(lambda: self._in_flight == 0, timeout=timeout)
