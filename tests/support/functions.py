"""Loads a function's handler module from functions/<name>/app.py by file, as the local stack does."""

from __future__ import annotations

from functools import cache
from types import ModuleType

from leadflow_local.lambda_runtime import import_file
from tests.support.moto_stack import ROOT


@cache
def load(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    assert path.is_file(), f"no handler at {path}"
    return import_file(f"leadflow_function_{name}", path)
