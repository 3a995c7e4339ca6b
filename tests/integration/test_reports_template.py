"""The reports' wiring in template.yaml, read from the samtranslator expansion: the bus rule sends
exactly the counted events to the report queue, failures dead-letter to an alarmed queue, and the
function may poll only its queue and write only the Campaigns table's counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadflow.domain.aggregates import COUNTED_EVENTS
from leadflow_local.template import ExpandedTemplate, load_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> ExpandedTemplate:
    return load_template(ROOT / "template.yaml")


def _statements(template: ExpandedTemplate, role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.resources[role]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _alarmed(template: ExpandedTemplate, queue: str) -> bool:
    return any(
        dimension.get("Value") == {"Fn::GetAtt": [queue, "QueueName"]}
        for resource in template.resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        for dimension in resource["Properties"]["Dimensions"]
    )


def test_the_rule_sends_exactly_the_counted_events_from_leadflow_to_the_report_queue(template):
    rule = template.resources["ReportEventsRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBus"}
    assert rule["EventPattern"] == {"source": ["leadflow"], "detail-type": list(COUNTED_EVENTS)}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ReportQueue", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ReportDeadLetterQueue", "Arn"]}}
    policy = template.resources["ReportQueuePolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": ["ReportEventsRule", "Arn"]}


def test_a_failing_event_returns_alone_and_reaches_an_alarmed_dead_letter_queue(template):
    mapping = template.resources["ReportsFunctionEvents"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ReportQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "ReportsFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = template.resources["ReportQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ReportDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * template.resources["ReportsFunction"]["Properties"]["Timeout"]
    assert _alarmed(template, "ReportDeadLetterQueue")


def test_the_reports_function_polls_its_queue_and_writes_counters_only(template):
    role = template.resources["ReportsFunctionRole"]
    assert not [arn for arn in role["Properties"]["ManagedPolicyArns"] if "SQS" in arn.upper()]
    statements = _statements(template, "ReportsFunctionRole")
    sqs = [s for s in statements if "sqs:" in str(s["Action"])]
    assert sqs
    assert all(_as_list(s["Resource"]) == [{"Fn::GetAtt": ["ReportQueue", "Arn"]}] for s in sqs)
    dynamodb = {a for s in statements for a in _as_list(s["Action"]) if a.startswith("dynamodb:")}
    assert dynamodb == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }  # the claim and the counters: no reads, no Scan
