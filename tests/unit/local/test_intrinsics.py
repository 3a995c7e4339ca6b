"""CloudFormation intrinsics resolved against local resources (Ref, GetAtt, Sub, conditions)."""

from __future__ import annotations

import pytest

from leadflow_local.intrinsics import (
    NO_VALUE,
    IntrinsicError,
    Resolver,
    ResourceAttributes,
    as_environment_value,
)

RESOURCES = {
    "Table": ResourceAttributes("leadflow-local-Table", {"Arn": "arn:aws:dynamodb:us-east-1:1:table/t"}),
    "Queue": ResourceAttributes(
        "http://127.0.0.1:5000/1/q", {"Arn": "arn:aws:sqs:us-east-1:1:q", "QueueName": "q"}
    ),
}


def lookup(name: str) -> ResourceAttributes:
    if name not in RESOURCES:
        raise IntrinsicError(f"no resource {name}")
    return RESOURCES[name]


def resolver(**conditions: object) -> Resolver:
    return Resolver(
        parameters={"Stage": "dev", "Size": 30},
        pseudo={"AWS::Region": "us-east-1", "AWS::StackName": "leadflow-local"},
        lookup=lookup,
        conditions=conditions or {"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
        mappings={"Sizes": {"dev": {"Memory": 256}}},
    )


def test_ref_of_resource_parameter_and_pseudo_parameter() -> None:
    resolve = resolver().resolve
    assert resolve({"Ref": "Table"}) == "leadflow-local-Table"
    assert resolve({"Ref": "Queue"}) == "http://127.0.0.1:5000/1/q"
    assert resolve({"Ref": "Stage"}) == "dev"
    assert resolve({"Ref": "AWS::Region"}) == "us-east-1"


def test_get_att_in_both_forms() -> None:
    resolve = resolver().resolve
    assert resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:us-east-1:1:q"
    assert resolve({"Fn::GetAtt": "Queue.QueueName"}) == "q"


def test_sub_with_refs_attributes_variables_and_escapes() -> None:
    resolve = resolver().resolve
    assert resolve({"Fn::Sub": "${AWS::StackName}-${Stage}-events"}) == "leadflow-local-dev-events"
    assert resolve({"Fn::Sub": "${Table.Arn}/index/*"}) == "arn:aws:dynamodb:us-east-1:1:table/t/index/*"
    assert resolve({"Fn::Sub": ["${Name}:${Size}", {"Name": {"Ref": "Table"}}]}) == "leadflow-local-Table:30"
    assert resolve({"Fn::Sub": "${!Literal}"}) == "${Literal}"


def test_join_select_split_find_in_map() -> None:
    resolve = resolver().resolve
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 256


def test_conditions_and_no_value_remove_properties() -> None:
    resolve = resolver().resolve
    value = {
        "A": {"Fn::If": ["IsDev", "dev-value", "prod-value"]},
        "B": {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, "x"]},
        "C": [1, {"Ref": "AWS::NoValue"}, 2],
    }
    assert resolve(value) == {"A": "dev-value", "C": [1, 2]}


def test_nested_conditions() -> None:
    logic = resolver(
        IsDev={"Fn::Equals": ["dev", {"Ref": "Stage"}]},
        NotDev={"Fn::Not": [{"Condition": "IsDev"}]},
        Either={"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "NotDev"}]},
        Both={"Fn::And": [{"Condition": "IsDev"}, {"Condition": "NotDev"}]},
    )
    assert (logic.condition("IsDev"), logic.condition("NotDev")) == (True, False)
    assert (logic.condition("Either"), logic.condition("Both")) == (True, False)


def test_unknown_reference_and_import_value_are_clear_errors() -> None:
    resolve = resolver().resolve
    with pytest.raises(IntrinsicError, match="no resource"):
        resolve({"Ref": "Missing"})
    with pytest.raises(IntrinsicError, match="ImportValue"):
        resolve({"Fn::ImportValue": "other-stack-export"})


def test_environment_values_become_text_like_cloudformation_makes_them() -> None:
    assert as_environment_value(30, "N") == "30"
    assert as_environment_value(True, "B") == "true"
    with pytest.raises(IntrinsicError):
        as_environment_value({"a": 1}, "D")
    with pytest.raises(IntrinsicError):
        as_environment_value(NO_VALUE, "X")
