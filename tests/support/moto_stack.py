"""In-process moto resources built from template.yaml, for unit and integration tests.

Tables and queues are plain CloudFormation in the template, so their properties go to the
API as they are: a table added to the template appears here with no second list to keep.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"


def template_resources() -> dict[str, dict[str, Any]]:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(TEMPLATE.read_text())["Resources"]


@dataclass
class MotoStack:
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        return {
            "CONTACTS_TABLE": self.tables["ContactsTable"],
            "CAMPAIGNS_TABLE": self.tables["CampaignsTable"],
            "ACTIVITY_QUEUE_URL": self.queues["ActivityQueue"],
            "EVENT_BUS_NAME": self.buses["EventBus"],
            "TRACKING_SECRET_ARN": self.secrets["TrackingSecret"],
        }


def _table_kwargs(logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    kwargs = {
        "TableName": f"leadflow-{logical_id}",
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if properties.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    return kwargs


def _create_secret(logical_id: str, properties: dict[str, Any]) -> str:
    """A secret with a value generated as GenerateSecretString asks, like CloudFormation does."""
    client = boto3.client("secretsmanager", region_name=REGION)
    generate = properties.get("GenerateSecretString", {})
    value = client.get_random_password(
        PasswordLength=int(generate.get("PasswordLength", 32)),
        ExcludePunctuation=bool(generate.get("ExcludePunctuation", False)),
    )["RandomPassword"]
    name = f"leadflow-{logical_id}-{uuid.uuid4().hex[:8]}"  # like CloudFormation's generated names
    return client.create_secret(Name=name, SecretString=value)["ARN"]


def create_stack() -> MotoStack:
    """Creates the template's tables, queues (with redrive) and buses in the active moto mock."""
    resources = template_resources()
    stack = MotoStack()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            kwargs = _table_kwargs(logical_id, resource["Properties"])
            dynamodb.create_table(**kwargs)
            stack.tables[logical_id] = kwargs["TableName"]
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            stack.secrets[logical_id] = _create_secret(logical_id, resource.get("Properties", {}))
        elif resource["Type"] == "AWS::Events::EventBus":
            name = f"leadflow-{logical_id}"
            events.create_event_bus(Name=name)
            stack.buses[logical_id] = name
    queues = {lid: res for lid, res in resources.items() if res["Type"] == "AWS::SQS::Queue"}
    arns: dict[str, str] = {}
    for logical_id in sorted(queues, key=lambda lid: "RedrivePolicy" in queues[lid].get("Properties", {})):
        properties = queues[logical_id].get("Properties", {})
        attributes = {"VisibilityTimeout": str(properties.get("VisibilityTimeout", 30))}
        redrive = properties.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target], "maxReceiveCount": redrive["maxReceiveCount"]}
            )
        url = sqs.create_queue(QueueName=f"leadflow-{logical_id}", Attributes=attributes)["QueueUrl"]
        stack.queues[logical_id] = url
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    return stack
