"""How EventBridge shapes what a target receives: Input, InputPath, InputTransformer."""

from __future__ import annotations

import json

from leadflow_local.bus import json_path, render_template, shape_payload
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


def test_input_transformer_quoted_placeholders_insert_text_unquoted_insert_json() -> None:
    transformer = {
        "InputPathsMap": {"id": "$.detail.contact_id", "score": "$.detail.score", "detail": "$.detail"},
        "InputTemplate": (
            '{"contact": "<id>", "score": <score>, "raw": <detail>, "rule": "<aws.events.rule-name>"}'
        ),
    }
    payload = shape_payload(target(input_transformer=transformer), EVENT, rule_name="Qualify")
    assert payload == {"contact": "c1", "score": 120, "raw": EVENT["detail"], "rule": "Qualify"}


def test_text_template_stays_text() -> None:
    assert render_template("Contact <id> qualified", {"id": "c1"}) == "Contact c1 qualified"
    assert json.loads(render_template('"<q>"', {"q": 'say "hi"'})) == 'say "hi"'
