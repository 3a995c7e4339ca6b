"""The registry creates what the template declares, names what it leaves out, and honours conditions."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from leadflow_local.errors import TemplateError
from leadflow_local.resources import AwsPlace, ResourceRegistry
from leadflow_local.template import load_template

PLACE = AwsPlace(None, "us-east-1", "123456789012", "unit", "http://127.0.0.1:3000")


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def template(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\n" + textwrap.dedent(body))
    return path


def test_created_not_needed_and_unknown_types_are_each_counted(moto: None, tmp_path: Path) -> None:
    path = template(
        tmp_path,
        """
        Resources:
          Parked:
            Type: AWS::SQS::Queue
          Work:
            Type: AWS::SQS::Queue
            Properties:
              VisibilityTimeout: 45
              RedrivePolicy: {deadLetterTargetArn: !GetAtt Parked.Arn, maxReceiveCount: 3}
          Logs:
            Type: AWS::Logs::LogGroup
            Properties: {LogGroupName: !Sub "/aws/lambda/${AWS::StackName}", RetentionInDays: 7}
          Topic:
            Type: AWS::SNS::Topic
        """,
    )
    registry = ResourceRegistry(load_template(path), PLACE)
    registry.create_all()
    assert dict(registry.created) == {"AWS::SQS::Queue": 2}
    assert dict(registry.not_needed) == {"AWS::Logs::LogGroup": 1}
    assert dict(registry.unknown) == {"AWS::SNS::Topic": 1}
    # the dead-letter queue was created first (on first reference), and the redrive points at it
    work = registry.resolver.ref("Work")
    attributes = registry.client("sqs").get_queue_attributes(QueueUrl=work, AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"
    assert registry.resolver.get_att("Parked", "Arn") in attributes["Attributes"]["RedrivePolicy"]


def test_conditions_select_resources_and_fn_if_picks_values(moto: None, tmp_path: Path) -> None:
    path = template(
        tmp_path,
        """
        Parameters:
          Stage: {Type: String, Default: dev}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          IsDev: !Not [!Condition IsProd]
          Both: !And [!Condition IsDev, !Or [!Equals [a, a], !Condition IsProd]]
        Resources:
          Only:
            Type: AWS::SQS::Queue
            Condition: IsProd
          Always:
            Type: AWS::SQS::Queue
            Properties:
              VisibilityTimeout: !If [IsProd, 60, 45]
              DelaySeconds: !If [Both, !Ref AWS::NoValue, 5]
        """,
    )
    dev = ResourceRegistry(load_template(path), PLACE)
    dev.create_all()
    assert "Only" not in dev.active
    assert dev.created["AWS::SQS::Queue"] == 1
    attributes = dev.client("sqs").get_queue_attributes(
        QueueUrl=dev.resolver.ref("Always"), AttributeNames=["All"]
    )
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"
    assert attributes["Attributes"]["DelaySeconds"] == "0"  # left out: the queue's default


def test_a_condition_the_stack_cannot_evaluate_is_refused_by_name(moto: None, tmp_path: Path) -> None:
    path = template(
        tmp_path,
        """
        Conditions:
          Odd: !Select [0, [true]]
        Resources:
          Only:
            Type: AWS::SQS::Queue
            Condition: Odd
        """,
    )
    with pytest.raises(TemplateError, match=r"template conditions: condition Odd"):
        ResourceRegistry(load_template(path), PLACE)
