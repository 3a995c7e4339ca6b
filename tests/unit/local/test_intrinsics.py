"""CloudFormation intrinsics resolved against local resources: Ref, GetAtt and Sub; others refused."""

from __future__ import annotations

import pytest

from leadflow_local.intrinsics import IntrinsicError, Resolver, ResourceAttributes, as_environment_value

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


def resolver() -> Resolver:
    return Resolver(
        parameters={"Stage": "dev", "Size": 30},
        pseudo={"AWS::Region": "us-east-1", "AWS::StackName": "leadflow-local"},
        lookup=lookup,
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


def test_nested_values_are_resolved_throughout() -> None:
    resolve = resolver().resolve
    value = {"Variables": {"TABLE": {"Ref": "Table"}, "ARNS": [{"Fn::GetAtt": "Queue.Arn"}, "literal"]}}
    assert resolve(value) == {
        "Variables": {"TABLE": "leadflow-local-Table", "ARNS": ["arn:aws:sqs:us-east-1:1:q", "literal"]}
    }


@pytest.mark.parametrize(
    "expression",
    [
        {"Fn::Join": ["-", ["a", "b"]]},
        {"Fn::ImportValue": "other-stack-export"},
        {"Fn::FindInMap": ["Sizes", "dev", "Memory"]},
    ],
)
def test_an_intrinsic_the_template_does_not_use_is_refused_by_name(expression: dict) -> None:
    (name,) = expression
    with pytest.raises(IntrinsicError, match=f"{name} is not resolved locally"):
        resolver().resolve({"Properties": {"Value": expression}})


def test_unknown_references_are_clear_errors() -> None:
    resolve = resolver().resolve
    with pytest.raises(IntrinsicError, match="no resource"):
        resolve({"Ref": "Missing"})
    with pytest.raises(IntrinsicError, match="pseudo parameter AWS::Unknown"):
        resolve({"Ref": "AWS::Unknown"})
    with pytest.raises(IntrinsicError, match="no condition named 'IsDev'"):
        resolve({"Fn::If": ["IsDev", "a", "b"]})
    assert resolve({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}]}) == {"B": [1]}


def test_environment_values_become_text_like_cloudformation_makes_them() -> None:
    assert as_environment_value(30, "N") == "30"
    assert as_environment_value(True, "B") == "true"
    with pytest.raises(IntrinsicError, match="environment variable D"):
        as_environment_value({"a": 1}, "D")
