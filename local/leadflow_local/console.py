"""A readable dev console: one line per request, and the handlers' JSON logs cut down to what matters.

Powertools writes every log record and every metric blob as a JSON line on stdout, as it
must in Lambda. In a terminal that buries the request lines, so ``leadflow dev`` routes
stdout through ``HandlerOutput``: warnings and errors become one short line (with the
traceback), info and metrics are dropped unless ``--verbose``. Handler code is unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import warnings
from typing import Any, TextIO

_SHOWN_LEVELS = {"WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"}


class HandlerOutput(io.TextIOBase):
    """A stdout stand-in that condenses Powertools' JSON lines for a human."""

    def __init__(self, target: TextIO, *, verbose: bool) -> None:
        self._target = target
        self._verbose = verbose
        self._buffer = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            while "\n" in self._buffer:
                line, self._buffer = self._buffer.split("\n", 1)
                shown = self._condense(line)
                if shown is not None:
                    self._target.write(shown + "\n")
            self._target.flush()
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def _condense(self, line: str) -> str | None:
        if self._verbose or not line.startswith("{"):
            return line
        try:
            record: Any = json.loads(line)
        except ValueError:
            return line
        if not isinstance(record, dict) or "_aws" in record:
            return None  # a CloudWatch metrics blob
        level = str(record.get("level", "")).upper()
        if level not in _SHOWN_LEVELS:
            return None
        where = record.get("function_name") or record.get("service") or "handler"
        text = f"  [{where}] {level} {record.get('message', '')}"
        if record.get("exception"):
            text += "\n    " + str(record["exception"]).replace("\n", "\n    ")
        return text


def configure(*, verbose: bool) -> TextIO:
    """Send the stack's own lines to the real stdout and the handlers' through the condenser."""
    console = sys.stdout
    if not verbose:
        # Powertools warns on every invocation that records no metric; noise in a terminal.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
    sys.stdout = HandlerOutput(console, verbose=verbose)
    handler = logging.StreamHandler(console)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("leadflow_local",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
        logger.propagate = False
    return console


def restore(console: TextIO) -> None:
    sys.stdout = console
