"""Operations hygiene, read from what CloudFormation really gets: the samtranslator expansion of
template.yaml (generated roles, event source mappings, schedules and rules included)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from leadflow_local.template import ExpandedTemplate, build_model, load_template
from tests.unit.local.test_template import offline_resolver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> ExpandedTemplate:
    return load_template(ROOT / "template.yaml")


def _of_type(template: ExpandedTemplate, kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template.resources.items() if res["Type"] == kind}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_function_logs_to_its_own_group_with_the_retention_parameter(template) -> None:
    functions = _of_type(template, "AWS::Lambda::Function")
    groups = _of_type(template, "AWS::Logs::LogGroup")
    assert len(functions) == 5
    used = []
    for logical_id, function in functions.items():
        target = function["Properties"]["LoggingConfig"]["LogGroup"]
        assert set(target) == {"Ref"}, f"{logical_id} logs to {target}, not a group of this template"
        group = groups[target["Ref"]]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert logical_id in group["LogGroupName"]["Fn::Sub"]
        used.append(target["Ref"])
    assert len(set(used)) == len(functions), "two functions share a log group"
    for logical_id, group in groups.items():
        assert "RetentionInDays" in group["Properties"], f"{logical_id} keeps its logs forever"
    assert template.document["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_the_process_function_may_poll_only_its_own_queue(template) -> None:
    role = template.resources["ProcessFunctionRole"]["Properties"]
    assert not [arn for arn in role["ManagedPolicyArns"] if "SQS" in arn.upper()]
    sqs = [s for s in _statements(template.resources["ProcessFunctionRole"]) if "sqs:" in str(s["Action"])]
    assert sqs, "the process function cannot poll its queue"
    for statement in sqs:
        assert _as_list(statement["Resource"]) == [{"Fn::GetAtt": ["ActivityQueue", "Arn"]}]
    mapping = template.resources["ProcessFunctionActivities"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ActivityQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "ProcessFunction"}


def test_no_role_grants_a_queue_wildcard_or_an_sqs_managed_policy(template) -> None:
    for logical_id, role in _of_type(template, "AWS::IAM::Role").items():
        assert not [arn for arn in role["Properties"].get("ManagedPolicyArns", []) if "SQS" in arn.upper()]
        for statement in _statements(role):
            if "sqs:" in str(statement["Action"]):
                assert "*" not in _as_list(statement["Resource"]), logical_id


def test_no_role_is_granted_the_unused_dynamodb_batch_actions(template) -> None:
    granted = {
        action
        for role in _of_type(template, "AWS::IAM::Role").values()
        for statement in _statements(role)
        for action in _as_list(statement["Action"])
    }
    assert not {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"} & granted
    # and no code calls them (a grant dropped here must not break a caller)
    sources = [*ROOT.glob("layers/core/leadflow/**/*.py"), *ROOT.glob("functions/*/app.py")]
    assert sources
    for source in sources:
        text = source.read_text()
        assert "batch_get_item" not in text, source
        assert "batch_write_item" not in text, source
        assert "batch_writer" not in text, source


def _dead_letter_alarmed(template: ExpandedTemplate, queue: str) -> bool:
    return any(
        dimension.get("Value") == {"Fn::GetAtt": [queue, "QueueName"]}
        for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"]["Dimensions"]
    )


def test_housekeeping_schedules_and_its_rule_retry_then_dead_letter_to_an_alarmed_queue(template) -> None:
    targets = {
        lid: schedule["Properties"]["Target"]
        for lid, schedule in _of_type(template, "AWS::Scheduler::Schedule").items()
    }
    for lid, rule in _of_type(template, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            targets[lid] = target
    assert {"HousekeepingFunctionDecay", "HousekeepingFunctionOutboxSweep"} <= set(targets)
    assert "HousekeepingFunctionSegmentRebuilds" in targets
    for lid, target in targets.items():
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, lid
        queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert template.resources[queue]["Type"] == "AWS::SQS::Queue", lid
        assert _dead_letter_alarmed(template, queue), f"{lid}'s dead letters raise no alarm"
    for lid in ("HousekeepingFunctionDecay", "HousekeepingFunctionOutboxSweep"):
        role = targets[lid]["RoleArn"]["Fn::GetAtt"][0]
        sends = [s for s in _statements(template.resources[role]) if "sqs:SendMessage" in str(s["Action"])]
        assert sends, f"{lid}'s role cannot deliver to its dead-letter queue"
    rule_arn = {"Fn::GetAtt": ["HousekeepingFunctionSegmentRebuilds", "Arn"]}
    allowed = [
        statement
        for policy in _of_type(template, "AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn") == rule_arn
    ]
    assert allowed, "EventBridge may not deliver the rule's dead letters"


def test_the_batching_window_is_a_parameter_aws_accepts_with_the_batch_size(template) -> None:
    parameter = template.document["Parameters"]["ActivityBatchingWindowSeconds"]
    mapping = template.resources["ProcessFunctionActivities"]["Properties"]
    assert mapping["MaximumBatchingWindowInSeconds"] == {"Ref": "ActivityBatchingWindowSeconds"}
    assert parameter["MinValue"] == 0
    assert parameter["MaxValue"] == 300
    # Lambda refuses a BatchSize above 10 unless the window is at least 1 s: any allowed value must work.
    assert mapping["BatchSize"] <= 10 or parameter["MinValue"] >= 1


@pytest.mark.parametrize("window", [None, 5])
def test_the_local_poller_gets_the_resolved_window(template, window) -> None:
    """The local stack resolves the parameter (its default, or a deployer's value) as AWS would."""
    if window is not None:
        document = copy.deepcopy(template.document)
        document["Parameters"]["ActivityBatchingWindowSeconds"]["Default"] = window
        template = dataclasses.replace(template, document=document)
    model = build_model(template, offline_resolver(template), set(template.resources))
    (trigger,) = [t for t in model.sqs_triggers if t.function == "ProcessFunction"]
    default = template.document["Parameters"]["ActivityBatchingWindowSeconds"]["Default"]
    assert trigger.window_seconds == float(default)
    assert trigger.batch_size == template.resources["ProcessFunctionActivities"]["Properties"]["BatchSize"]
