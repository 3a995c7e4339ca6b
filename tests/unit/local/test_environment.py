"""One process, one environment: merging the functions' variables and restoring the old ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leadflow_local.environment import install_environment, localize_api_urls, merge_function_environments
from leadflow_local.errors import TemplateError
from leadflow_local.template import FunctionSpec


def spec(logical_id: str, **environment: str) -> FunctionSpec:
    return FunctionSpec(logical_id, logical_id, f"arn:{logical_id}", Path(), "app.h", 3, 128, environment)


def test_identical_values_merge() -> None:
    merged = merge_function_environments([spec("A", TABLE="t", X="1"), spec("B", TABLE="t", Y="2")])
    assert merged == {"TABLE": "t", "X": "1", "Y": "2"}


def test_conflicting_values_fail_loudly_naming_both_functions() -> None:
    with pytest.raises(TemplateError, match=r"LEVEL: A sets 'INFO', B sets 'DEBUG'"):
        merge_function_environments([spec("A", LEVEL="INFO"), spec("B", LEVEL="DEBUG")])


def test_api_gateway_urls_point_at_the_local_front() -> None:
    values = {"PUBLIC_BASE_URL": "https://api.execute-api.us-east-1.amazonaws.com/v1", "OTHER": "x"}
    assert localize_api_urls(values, ["api"], "us-east-1", "http://127.0.0.1:3000") == {
        "PUBLIC_BASE_URL": "http://127.0.0.1:3000/v1",
        "OTHER": "x",
    }


def test_install_hides_shadowing_variables_and_restores_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://real.example")
    monkeypatch.setenv("CONTACTS_TABLE", "before")
    monkeypatch.delenv("NEW_ONE", raising=False)
    restore = install_environment({"CONTACTS_TABLE": "local", "NEW_ONE": "1"})
    assert os.environ["CONTACTS_TABLE"] == "local"
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ
    restore()
    assert os.environ["CONTACTS_TABLE"] == "before"
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == "https://real.example"
    assert "NEW_ONE" not in os.environ
