"""Conditions: plain data for when, where, exit_when and if."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from leadflow.definitions import ActivityType, CompareOp, Condition, Stage, Temperature


def test_every_condition_key_parses() -> None:
    condition = Condition.model_validate(
        {
            "activity": "download",
            "url": "*/whitepapers/*",
            "asset_type": "whitepaper",
            "topic": "serverless",
            "properties": {"campaign": "q3", "size": 3, "gated": True},
            "score_at_least": 10,
            "score_below": 100,
            "has_tag": "webinar",
            "stage_in": ["lead", "mql"],
            "temperature": "warm",
            "ma_campaign": "webinar",
            "crm_campaign": "crm-webinar",
            "status": "Attended",
            "in_list": "registrants",
            "subscribed": True,
            "field": [{"name": "country", "op": "eq", "value": "DE"}, {"name": "phone", "op": "exists"}],
        }
    )
    assert condition.activity is ActivityType.DOWNLOAD
    assert condition.stage_in == [Stage.LEAD, Stage.MQL]
    assert condition.temperature is Temperature.WARM
    assert [c.op for c in condition.comparisons] == [CompareOp.EQ, CompareOp.EXISTS]
    assert condition.tests_activity


def test_custom_event_name_and_form() -> None:
    assert Condition(activity="custom", name="cart_abandoned").name == "cart_abandoned"  # type: ignore[arg-type]
    assert Condition(activity="form_submit", form="signup").form == "signup"  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="name only applies to activity custom"):
        Condition(activity="page_view", name="x")  # type: ignore[arg-type]


def test_a_single_field_comparison_is_a_list_of_one() -> None:
    condition = Condition.model_validate({"field": {"name": "employees", "op": "gte", "value": 500}})
    assert condition.field is not None
    assert len(condition.field) == 1
    assert condition.comparisons[0].value == 500
    assert not condition.tests_activity


@pytest.mark.parametrize(
    ("comparison", "message"),
    [
        ({"name": "a", "op": "gt"}, "op gt needs a value"),
        ({"name": "a", "op": "lt", "value": True}, "op lt compares numbers or dates"),
        ({"name": "a", "op": "contains", "value": 3}, "op contains needs a text value"),
        ({"name": "a", "op": "exists", "value": "yes"}, "op exists takes value true or false"),
        ({"name": "a", "op": "like", "value": "x"}, "should be 'eq', 'ne'"),
    ],
)
def test_field_comparison_value_fits_the_op(comparison: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate({"field": comparison})


def test_status_needs_crm_campaign_and_score_range_must_be_possible() -> None:
    with pytest.raises(ValidationError, match="status needs crm_campaign"):
        Condition(status="Sent")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="score_below must be greater than score_at_least"):
        Condition(score_at_least=50, score_below=50)  # type: ignore[arg-type]


def test_properties_take_plain_values_only() -> None:
    with pytest.raises(ValidationError, match="is not a plain value"):
        Condition.model_validate({"activity": "custom", "properties": {"items": [1, 2]}})
