"""Checks every AWS call a handler makes in a test against its role's policy in template.yaml.

moto does not enforce IAM, so a call the role does not allow passes every local test and fails
in AWS with AccessDenied (an import's BatchGetItem did, once). While a handler loaded through
``tests.support.functions`` runs, each botocore call it makes is recorded with the function's
logical id; when the test ends, every call is checked against the role samtranslator expands
(SAM policy templates included), its resources resolved against the test's moto stack. A call
the role does not allow fails the test, naming the function, the action and the resource.

The IAM actions and resources are those AWS documents for each operation (a transaction needs
the item actions on each table it names; ``HeadObject`` needs ``s3:GetObject``; SES v2 signs as
``ses``). Only ``Allow`` statements with ``Action`` and ``Resource`` lists are in the template,
so that is what is evaluated (a ``Deny`` would refuse).
"""

from __future__ import annotations

import contextvars
import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from tests.support.moto_stack import REGION, MotoStack, expanded_template, template_resources

ACCOUNT = "123456789012"
PARTITION = "aws"

running_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "running_function", default=None
)


@dataclass(frozen=True, slots=True)
class Need:
    """One permission a call needs."""

    action: str
    resource: str


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    service: str
    operation: str
    needs: tuple[Need, ...]


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)

    def record(self, signing_name: str, operation: str, params: dict[str, Any]) -> None:
        function = running_function.get()
        if function is None:
            return  # the test's own set-up or checks, not a function's call
        self.calls.append(
            Call(function, signing_name, operation, tuple(needs_of(signing_name, operation, params)))
        )


def function_ids_by_folder() -> dict[str, str]:
    """``functions/<folder>/`` -> the function's logical id."""
    found = {}
    for logical_id, resource in template_resources().items():
        if resource["Type"] == "AWS::Serverless::Function":
            folder = str(resource["Properties"]["CodeUri"]).rstrip("/").rsplit("/", 1)[-1]
            found[folder] = logical_id
    return found


@contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """Records the calls handlers make while this runs (botocore's one entry point, patched)."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        recorder.record(client.meta.service_model.signing_name, operation, params)
        return original(client, operation, params)

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextmanager
def running(logical_id: str) -> Iterator[None]:
    token = running_function.set(logical_id)
    try:
        yield
    finally:
        running_function.reset(token)


# ---------------------------------------------------------------- what a call needs


def _arn(service: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}"


def _table(name: str, index: str | None = None) -> str:
    return _arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))


def _queue(url: str) -> str:
    return _arn("sqs", urlparse(url).path.rstrip("/").rsplit("/", 1)[-1])


def _bus(name: str | None) -> str:
    if name and name.startswith("arn:"):
        return name
    return _arn("events", f"event-bus/{name or 'default'}")


def _secret(secret_id: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    return _arn("secretsmanager", f"secret:{secret_id}-??????")


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def needs_of(service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """The IAM permissions ``operation`` needs (AWS's Service Authorization Reference)."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                Need(f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table(body["TableName"]))
                for entry in params.get("TransactItems", [])
                for kind, body in entry.items()
            ]
        if operation == "TransactGetItems":
            return [
                Need("dynamodb:GetItem", _table(entry["Get"]["TableName"]))
                for entry in params.get("TransactItems", [])
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Need(f"dynamodb:{operation}", _table(name)) for name in params.get("RequestItems", {})]
        if "TableName" in params:
            return [Need(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))]
    if service == "sqs" and "QueueUrl" in params:
        action = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}.get(
            operation, operation
        )
        if operation == "ChangeMessageVisibilityBatch":
            action = "ChangeMessageVisibility"
        return [Need(f"sqs:{action}", _queue(params["QueueUrl"]))]
    if service == "s3" and "Bucket" in params:
        bucket = params["Bucket"]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [Need("s3:ListBucket", f"arn:{PARTITION}:s3:::{bucket}")]
        action = {"HeadObject": "GetObject"}.get(operation, operation)
        return [Need(f"s3:{action}", f"arn:{PARTITION}:s3:::{bucket}/{params.get('Key', '')}")]
    if service == "events" and operation == "PutEvents":
        return [
            Need("events:PutEvents", _bus(entry.get("EventBusName"))) for entry in params.get("Entries", [])
        ]
    if service == "secretsmanager" and "SecretId" in params:
        return [Need(f"secretsmanager:{operation}", _secret(params["SecretId"]))]
    if service == "ses" and operation == "SendEmail":
        sender = str(params.get("FromEmailAddress") or "")
        needs = [Need("ses:SendEmail", _arn("ses", f"identity/{sender.rsplit('@', 1)[-1].rstrip('>')}"))]
        if params.get("ConfigurationSetName"):
            needs.append(
                Need("ses:SendEmail", _arn("ses", f"configuration-set/{params['ConfigurationSetName']}"))
            )
        return needs
    return [Need(f"{service}:{operation}", "*")]


# ---------------------------------------------------------------- what a role allows


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def matches(self, need: Need) -> bool:
        return any(
            fnmatch.fnmatchcase(need.action.lower(), action.lower()) for action in self.actions
        ) and any(_resource_matches(need.resource, pattern) for pattern in self.resources)


def _resource_matches(resource: str, pattern: str) -> bool:
    if pattern == "*" or resource == "*":  # "*": an operation whose resource is not worked out here
        return True
    if fnmatch.fnmatchcase(resource, pattern):
        return True
    # a secret asked for by name ("name-??????") against the ARN moto made ("name-AbC123")
    return "?" in resource and fnmatch.fnmatchcase(pattern, resource)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(stack: MotoStack) -> dict[str, list[Statement]]:
    """Each function's role's statements, by the function's logical id, resources resolved."""
    template = expanded_template()
    resolver = stack.registry.resolver
    found: dict[str, list[Statement]] = {}
    for logical_id, resource in template.resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else None
        statements: list[Statement] = []
        if role_id is not None:
            for policy in template.resources[role_id]["Properties"].get("Policies", []):
                for statement in _listed(policy["PolicyDocument"]["Statement"]):
                    resources = [
                        str(resolver.resolve(item)) for item in _listed(statement.get("Resource", "*"))
                    ]
                    statements.append(
                        Statement(
                            effect=str(statement.get("Effect", "Allow")),
                            actions=tuple(str(action) for action in _listed(statement.get("Action", []))),
                            resources=tuple(resources),
                        )
                    )
        found[logical_id] = statements
    return found


def allowed(statements: list[Statement], need: Need) -> bool:
    if any(statement.effect == "Deny" and statement.matches(need) for statement in statements):
        return False
    return any(statement.effect == "Allow" and statement.matches(need) for statement in statements)


def denials(stack: MotoStack, calls: list[Call]) -> list[str]:
    """Each distinct permission a recorded call needed and its function's role lacks."""
    roles = role_statements(stack)
    missing: dict[tuple[str, str, str], str] = {}
    for call in calls:
        for need in call.needs:
            if not allowed(roles.get(call.function, []), need):
                missing.setdefault(
                    (call.function, need.action, need.resource),
                    f"{call.function}: {call.service} {call.operation} needs {need.action} on {need.resource}",
                )
    return sorted(missing.values())
