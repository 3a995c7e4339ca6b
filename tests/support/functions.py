"""Loads a function's handler module from functions/<name>/app.py by file, as the local stack does.

Its ``lambda_handler`` runs as that function (``tests.support.iam``): the AWS calls it makes are
checked against the function's role when the test ends."""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from leadflow_local.lambda_runtime import import_file
from tests.support import iam
from tests.support.moto_stack import ROOT


@cache
def load(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    assert path.is_file(), f"no handler at {path}"
    module = import_file(f"leadflow_function_{name}", path)
    handler = getattr(module, "lambda_handler", None)
    if handler is not None:
        logical_id = iam.function_ids_by_folder()[name]

        def lambda_handler(event: Any, context: Any) -> Any:
            with iam.running(logical_id):
                return handler(event, context)

        module.lambda_handler = lambda_handler  # type: ignore[attr-defined]
    return module
