"""Loads each function's handler from its CodeUri by file path and invokes it like Lambda does.

Handlers are imported by file with a unique module name per function (never by sys.path), so
two functions' ``app.py`` never collide. Invocations are serialised across the stack: handler
code is written for one event at a time per process, and the shared core keeps process-wide
singletons (one Powertools Logger, Metrics, resolver state) that concurrent events would mix.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from leadflow_local.errors import TemplateError
from leadflow_local.template import FunctionSpec

log = logging.getLogger("leadflow_local")

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    timeout_seconds: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None
    _started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(
        cls, function_name: str, *, arn: str = "", memory_mb: int = 128, timeout_seconds: float = 3.0
    ) -> LambdaContext:
        """The context of a new invocation (Lambda's defaults: 128 MB, 3 s); its clock starts now."""
        return cls(
            function_name=function_name,
            invoked_function_arn=arn or f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
            memory_limit_in_mb=memory_mb,
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=timeout_seconds,
            log_group_name=f"/aws/lambda/{function_name}",
        )

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class LambdaFunction:
    """One function of the template, loaded once (a warm execution environment)."""

    def __init__(self, spec: FunctionSpec, handler: Handler, invocation_lock: threading.RLock) -> None:
        self.spec = spec
        self._handler = handler
        self._lock = invocation_lock

    @property
    def logical_id(self) -> str:
        return self.spec.logical_id

    def invoke(self, event: Any) -> Any:
        """Run the handler on ``event``; its exception propagates, as Lambda reports it as an error."""
        with self._lock:
            context = LambdaContext.start(  # made inside the lock: waiting is not the function's time
                self.spec.name,
                arn=self.spec.arn,
                memory_mb=self.spec.memory_mb,
                timeout_seconds=self.spec.timeout_seconds,
            )
            started = time.monotonic()
            try:
                return self._handler(event, context)
            finally:
                elapsed = time.monotonic() - started
                if elapsed > self.spec.timeout_seconds:
                    log.warning(
                        "%s ran %.1f s, past its Timeout of %.0f s: AWS would have stopped it",
                        self.logical_id,
                        elapsed,
                        self.spec.timeout_seconds,
                    )


def load_handler(spec: FunctionSpec) -> Handler:
    """Import ``module.function`` from the function's code folder, as the Lambda runtime would."""
    module_path, _, attribute = spec.handler.rpartition(".")
    if not module_path:
        raise TemplateError(f"{spec.logical_id}: Handler {spec.handler!r} is not module.function")
    file = spec.code_dir / (module_path.replace(".", "/") + ".py")
    if not file.is_file():
        raise TemplateError(
            f"{spec.logical_id}: handler file {file} does not exist (CodeUri {spec.code_dir})"
        )
    try:
        module = import_file(f"leadflow_local_functions.{spec.logical_id}", file)
    except Exception as error:
        raise TemplateError(f"{spec.logical_id}: importing {file} failed: {error!r}") from error
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise TemplateError(f"{spec.logical_id}: {file} has no callable {attribute!r}")
    return handler


def import_file(name: str, file: Path) -> ModuleType:
    """Import ``file`` as module ``name``, afresh: a second stack in one process gets the current code.

    The one way a handler is loaded by path, here and in the tests (tests/support/functions.py).
    """
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise TemplateError(f"cannot import {file}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def load_functions(specs: dict[str, FunctionSpec]) -> dict[str, LambdaFunction]:
    """Import every handler up front, so a broken import stops the start, not the first request."""
    lock = threading.RLock()
    return {logical_id: LambdaFunction(spec, load_handler(spec), lock) for logical_id, spec in specs.items()}
