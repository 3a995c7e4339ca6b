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
    assert len(functions) == len(list((ROOT / "functions").glob("*/app.py")))
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
    sqs = [
        s
        for s in _statements(template.resources["ProcessFunctionRole"])
        if "sqs:ReceiveMessage" in str(s["Action"])
    ]
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


def test_only_the_import_function_is_granted_a_dynamodb_batch_action(template) -> None:
    granted = {
        (logical_id, action)
        for logical_id, role in _of_type(template, "AWS::IAM::Role").items()
        for statement in _statements(role)
        for action in _as_list(statement["Action"])
        if action in ("dynamodb:BatchGetItem", "dynamodb:BatchWriteItem")
    }
    assert granted == {("ImportFunctionRole", "dynamodb:BatchGetItem")}  # a chunk's address reads
    # and only the table module's one batch read calls it (a grant dropped here must not break a caller)
    sources = [*ROOT.glob("layers/core/leadflow/**/*.py"), *ROOT.glob("functions/*/app.py")]
    assert sources
    for source in sources:
        text = source.read_text()
        if source.name != "dynamo.py":
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


def test_ses_events_reach_their_function_from_this_configuration_set_only(template) -> None:
    rule = template.resources["SesEventsFunctionSesEvents"]["Properties"]
    assert "EventBusName" not in rule, "SES publishes to the default bus only"
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.ses"]
    assert pattern["detail"]["mail"]["tags"]["ses:configuration-set"] == [{"Ref": "SesConfigurationSet"}]
    destination = template.resources["SesConfigurationSetEvents"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "SesConfigurationSet"}
    events = destination["EventDestination"]
    assert events["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"].endswith(":event-bus/default")
    assert {"bounce", "complaint", "delivery"} <= set(events["MatchingEventTypes"])
    # SES would add its own pixel and rewrite links for these; Leadflow tracks opens and clicks itself
    assert not {"open", "click"} & set(events["MatchingEventTypes"])
    for logical_id, function in _of_type(template, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}, logical_id


def test_a_failed_ses_event_is_retried_then_dead_lettered_to_an_alarmed_queue(template) -> None:
    function = template.resources["SesEventsFunction"]["Properties"]
    (target,) = template.resources["SesEventsFunctionSesEvents"]["Properties"]["Targets"]
    queue = {"Fn::GetAtt": ["SesEventsDeadLetterQueue", "Arn"]}
    assert function["DeadLetterConfig"] == {"TargetArn": queue}  # after Lambda's asynchronous retries
    assert target["DeadLetterConfig"] == {"Arn": queue}  # when the rule cannot invoke at all
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert _dead_letter_alarmed(template, "SesEventsDeadLetterQueue")
    rule_arn = {"Fn::GetAtt": ["SesEventsFunctionSesEvents", "Arn"]}
    assert any(
        statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn") == rule_arn
        for policy in _of_type(template, "AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ), "EventBridge may not deliver the rule's dead letters"
    statements = _statements(template.resources["SesEventsFunctionRole"])
    granted = {action for statement in statements for action in _as_list(statement["Action"])}
    assert "dynamodb:Scan" not in granted
    assert "dynamodb:PutItem" not in granted
    dead_letter_sends = [s for s in statements if s["Action"] in ("sqs:SendMessage", ["sqs:SendMessage"])]
    assert any(_as_list(s["Resource"]) == [queue] for s in dead_letter_sends)


def test_the_nurture_function_polls_only_the_step_queue_and_its_minute_run_dead_letters(template) -> None:
    role = template.resources["NurtureFunctionRole"]
    assert not [arn for arn in role["Properties"]["ManagedPolicyArns"] if "SQS" in arn.upper()]
    sqs = [s for s in _statements(role) if "sqs:" in str(s["Action"])]
    assert sqs
    for statement in sqs:
        assert _as_list(statement["Resource"]) == [{"Fn::GetAtt": ["StepQueue", "Arn"]}]
    mapping = template.resources["NurtureFunctionSteps"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["StepQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "NurtureFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # no Scan: the minute run reads the due-time index, the worker one contact's items
    actions = {action for statement in _statements(role) for action in _as_list(statement["Action"])}
    assert "dynamodb:Scan" not in actions
    schedule = template.resources["NurtureFunctionMinuteRun"]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    queue = schedule["Target"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert _dead_letter_alarmed(template, queue)
    queue_props = template.resources["StepQueue"]["Properties"]
    dead = queue_props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert _dead_letter_alarmed(template, dead)
    assert (
        queue_props["VisibilityTimeout"] >= 6 * template.resources["NurtureFunction"]["Properties"]["Timeout"]
    )


def test_the_process_function_sends_to_the_step_queue_and_replays_stitched_activity(template) -> None:
    sends = [
        s
        for s in _statements(template.resources["ProcessFunctionRole"])
        if _as_list(s["Action"]) == ["sqs:SendMessage"]
    ]
    assert [_as_list(s["Resource"]) for s in sends] == [
        [{"Fn::GetAtt": ["StepQueue", "Arn"]}],
        [{"Fn::GetAtt": ["ActivityQueue", "Arn"]}],  # a converted visitor's earlier activity, once
    ]


def test_overdue_enrollments_raise_an_alarm(template) -> None:
    alarms = [
        alarm["Properties"]
        for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "OverdueEnrollments"
    ]
    (alarm,) = alarms
    namespace = template.resources["NurtureFunction"]["Properties"]["Environment"]["Variables"]
    assert alarm["Namespace"] == namespace["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": namespace["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["Threshold"] == 0


def test_schedule_names_are_the_stacks_own_so_two_stacks_can_share_an_account():
    # Scheduler names are unique per account, region and group; SAM names a ScheduleV2 event after
    # its logical id unless told, so a second stack (staging beside production) failed to deploy.
    from tests.support.moto_stack import expanded_template

    resources = expanded_template().resources
    schedules = {
        logical_id: resource["Properties"].get("Name")
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Scheduler::Schedule"
    }
    assert schedules
    for logical_id, name in schedules.items():
        assert isinstance(name, dict), logical_id
        assert name["Fn::Sub"].startswith("${AWS::StackName}-"), logical_id


def test_salesforce_event_relay_is_optional_and_replaces_the_poll(template) -> None:
    from leadflow_local.resources import AwsPlace, ResourceRegistry

    place = AwsPlace(None, "us-east-1", "123456789012", "ops", "https://api.example.com")
    relay = "aws.partner/salesforce.com/00D000000000001/0YL000000000001"
    default = ResourceRegistry(template, place)
    assert "SyncEventRelayRule" not in default.active
    schedule = template.resources["SyncFunctionSalesforcePoll"]["Properties"]
    assert default.resolver.resolve(schedule["State"]) == "ENABLED"
    relayed = ResourceRegistry(template, place, {"SalesforceEventRelayBusName": relay})
    assert {
        "SyncEventRelayRule",
        "SyncEventRelayPermission",
        "SyncEventRelayDeadLetterPolicy",
    } <= relayed.active
    assert relayed.resolver.resolve(schedule["State"]) == "DISABLED"
    rule = template.resources["SyncEventRelayRule"]["Properties"]
    assert relayed.resolver.resolve(rule["EventBusName"]) == relay
    assert rule["Targets"][0]["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SyncPollDeadLetterQueue", "Arn"]}
