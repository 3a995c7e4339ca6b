"""The only Logger, Tracer and Metrics of the process, shared by every handler and module, and
the one way a failure is logged where its input may be personal data."""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

_FRAMES = 6  # innermost frames kept: enough to find the line, short enough to read
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")  # a schema's field; a key like an email is not


class RedactedError(Exception):
    """Stands in for a failure whose text may quote its input (pydantic's errors quote values):
    it names the ids it was given and the original's type, never the original's message."""

    def __init__(self, facts: dict[str, Any]) -> None:
        ids = ", ".join(f"{key}={value}" for key, value in facts.items() if key.endswith("_id"))
        super().__init__(f"{facts['error_type']} ({ids or 'no id'})")
        self.facts = facts


def failure_facts(error: BaseException) -> dict[str, Any]:
    """What may be logged about ``error``: its type, where it was raised, and for the errors whose
    parts are known to be safe (pydantic's field paths and error types, AWS error codes) those."""
    kind = type(error)
    facts: dict[str, Any] = {
        "error_type": kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}",
        "raised_at": [
            f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in [
                frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__
            ][-_FRAMES:]
        ],
    }
    errors = getattr(error, "errors", None)
    if kind.__name__ == "ValidationError" and callable(errors):  # pydantic's: locations and types only
        facts["invalid"] = [
            {"at": ".".join(_path_part(part) for part in item["loc"]), "type": item["type"]}
            for item in errors(include_url=False, include_context=False, include_input=False)
        ]
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):  # botocore ClientError
        facts["aws_error_code"] = response["Error"].get("Code")
        facts["aws_operation"] = getattr(error, "operation_name", None)
    code = getattr(error, "code", None)
    if isinstance(code, str):  # leadflow's own errors carry their API code
        facts["error_code"] = code
    return facts


def _path_part(part: str | int) -> str:
    """A field path segment as logged: an unknown key (``extra_forbidden``) is the input's own text."""
    return str(part) if isinstance(part, int) or _FIELD_NAME.fullmatch(part) else "?"


@contextmanager
def redacted_failures(message: str, **ids: str | None) -> Iterator[None]:
    """Logs a failure inside the block by ``ids`` and :func:`failure_facts`, and re-raises it as a
    :class:`RedactedError`, so neither this log, the batch report, the trace nor the Lambda
    runtime's own error line quotes the input."""
    try:
        yield
    except Exception as error:
        facts = {**{key: value for key, value in ids.items() if value}, **failure_facts(error)}
        logger.warning(message, extra=facts)
        raise RedactedError(facts) from None
