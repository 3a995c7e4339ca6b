"""Loads a function's handler module from functions/<name>/app.py, as Lambda would (by file)."""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

from tests.support.moto_stack import ROOT


@cache
def load(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"leadflow_function_{name}", path)
    assert spec, f"no handler at {path}"
    assert spec.loader, f"no loader for {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
