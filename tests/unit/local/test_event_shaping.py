"""How EventBridge shapes what a target receives: Input, InputPath (an InputTransformer is refused)."""

from __future__ import annotations

from leadflow_local.bus import json_path, shape_payload
from leadflow_local.template import TargetSpec

EVENT = {"source": "leadflow", "detail-type": "LeadQualified", "detail": {"contact_id": "c1", "score": 120}}


def target(**shaping: object) -> TargetSpec:
    return TargetSpec(
        id="t", arn="arn:aws:lambda:us-east-1:1:function:f", kind="function", function="F", **shaping
    )


def test_without_shaping_the_whole_event_is_delivered() -> None:
    assert shape_payload(target(), EVENT) == EVENT


def test_constant_input_replaces_the_event() -> None:
    assert shape_payload(target(input='{"fixed": true}'), EVENT) == {"fixed": True}


def test_input_path_selects_part_of_the_event() -> None:
    assert shape_payload(target(input_path="$.detail"), EVENT) == EVENT["detail"]
    assert json_path({"a": [{"b": 1}]}, "$.a[0].b") == 1
    assert json_path(EVENT, "$.missing.x") is None
