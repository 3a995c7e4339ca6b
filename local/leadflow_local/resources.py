"""Creates the template's AWS resources in moto with direct API calls, and answers Ref/GetAtt.

moto's CloudFormation skips secrets, schedules and queue policies, drops table TTL and fails
on a rule whose ``EventBusName`` is a ``!Ref`` (docs/LOCAL.md), so each resource type here is
one small creator calling the service API: one per type template.yaml declares, with the
properties it uses. Resources are created on first reference, which gives dependency order (a
dead-letter queue before the queue that redrives to it) for free.

The same registry builds the in-process moto of the unit and integration tests
(tests/support/moto_stack.py): ``AwsPlace(endpoint=None)`` talks to ``mock_aws``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from leadflow_local.errors import TemplateError
from leadflow_local.intrinsics import IntrinsicError, Resolver, ResourceAttributes
from leadflow_local.template import ExpandedTemplate

# Types the stack runs or serves itself (nothing in moto), and types it knowingly leaves out,
# each with the reason the start-up summary gives. A type in neither list nor _CREATORS is a
# note at start: the template gained something the local stack does not know.
EMULATED = {
    "AWS::Lambda::Function": "run in-process",
    "AWS::Lambda::EventSourceMapping": "polled by the stack",
    "AWS::ApiGatewayV2::Api": "served by the stack",
    "AWS::ApiGatewayV2::Stage": "served by the stack",
    "AWS::Lambda::LayerVersion": "its package is imported from the repository",
}
NOT_NEEDED = {
    "AWS::Logs::LogGroup": "handlers log to the console",
    "AWS::CloudWatch::Alarm": "no metrics are kept locally",
    "AWS::IAM::Role": "IAM is not enforced locally",
    "AWS::IAM::Policy": "IAM is not enforced locally",
    "AWS::Lambda::Permission": "IAM is not enforced locally",
    "AWS::SQS::QueuePolicy": "IAM is not enforced locally",
    "AWS::S3::BucketPolicy": "IAM is not enforced locally",
    "AWS::SES::ConfigurationSetEventDestination": (
        "moto's SES publishes no events; put an aws.ses event on the default bus to try one (docs/EMAIL_EVENTS.md)"
    ),
}


@dataclass(frozen=True)
class AwsPlace:
    """Where the embedded AWS lives (``None``: boto3's own endpoints, for mock_aws) and the pseudo parameters."""

    endpoint: str | None
    region: str
    account: str
    stack_name: str
    api_url: str

    @property
    def pseudo(self) -> dict[str, Any]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.arn("cloudformation", f"stack/{self.stack_name}/local"),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:aws:{service}:{self.region if region else ''}:{self.account if account else ''}:{resource}"
        )


Creator = Callable[["ResourceRegistry", str, dict[str, Any]], ResourceAttributes]
_SESSION_LOCK = threading.Lock()


@cache
def _session() -> Any:
    """One boto3 session for every registry: it loads each service's model once per process."""
    import boto3

    return boto3.session.Session()


class ResourceRegistry:
    """The template's resources in moto; the lookup behind every ``Ref`` and ``GetAtt``."""

    def __init__(
        self, template: ExpandedTemplate, place: AwsPlace, parameters: dict[str, str] | None = None
    ) -> None:
        self.template = template
        self.place = place
        self.resolver = Resolver(
            parameters=template.parameter_values(parameters),
            pseudo=place.pseudo,
            lookup=self._lookup,
            conditions=template.document.get("Conditions") or {},
        )
        self._attributes: dict[str, ResourceAttributes] = {}
        self._in_progress: set[str] = set()
        self._clients: dict[str, Any] = {}
        self.created: Counter[str] = Counter()
        self.not_needed: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.queue_urls: dict[str, str] = {}  # ARN -> URL
        try:  # what CloudFormation would create: resources without a condition, or whose condition holds
            self.active = {
                lid
                for lid, res in template.resources.items()
                if "Condition" not in res or self.resolver.condition(str(res["Condition"]))
            }
        except IntrinsicError as error:
            raise TemplateError(f"template conditions: {error}") from error

    # ---------------------------------------------------------------- public
    def create_all(self) -> None:
        """Create every resource of a supported type (each once, dependencies first)."""
        for logical_id in self.template.resources:
            if logical_id not in self.active:
                continue
            kind = self.template.resources[logical_id]["Type"]
            if kind in _CREATORS:
                self._lookup(logical_id)
            elif kind in NOT_NEEDED:
                self.not_needed[kind] += 1
            elif kind not in EMULATED:
                self.unknown[kind] += 1

    def client(self, service: str) -> Any:
        """A boto3 client on the embedded AWS (explicit endpoint: os.environ may not be set yet)."""
        if service not in self._clients:
            from botocore.config import Config

            with _SESSION_LOCK:  # a boto3 Session is not thread-safe; its clients are
                self._clients[service] = _session().client(
                    service,
                    endpoint_url=self.place.endpoint,
                    region_name=self.place.region,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",  # noqa: S106 - moto accepts any key
                    config=Config(retries={"mode": "standard", "max_attempts": 2}),
                )
        return self._clients[service]

    def physical_name(self, logical_id: str, limit: int = 64) -> str:
        """Readable stand-in for CloudFormation's ``<stack>-<logical id>-<random>`` names."""
        return f"{self.place.stack_name}-{logical_id}"[:limit]

    # ---------------------------------------------------------------- lookup
    def _lookup(self, logical_id: str) -> ResourceAttributes:
        if logical_id in self._attributes:
            return self._attributes[logical_id]
        resource = self.template.resources.get(logical_id)
        if resource is None:
            raise IntrinsicError(f"no resource or parameter named {logical_id!r} in the template")
        if logical_id in self._in_progress:
            raise TemplateError(f"{logical_id} refers to itself through its references (a cycle)")
        self._in_progress.add(logical_id)
        try:
            properties = resource.get("Properties") or {}
            creator = _CREATORS.get(resource["Type"])
            if creator is not None and logical_id in self.active:
                attributes = creator(self, logical_id, self.resolver.resolve(properties))
                self.created[resource["Type"]] += 1
            else:
                attributes = _synthesize(self, logical_id, resource["Type"], properties)
        except IntrinsicError as error:
            raise TemplateError(f"{logical_id}: {error}") from error
        finally:
            self._in_progress.discard(logical_id)
        self._attributes[logical_id] = attributes
        return attributes


# ------------------------------------------------------------------ creators
def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _table(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    name = props.get("TableName") or registry.physical_name(logical_id, 255)
    billing = props.get("BillingMode", "PROVISIONED")
    default_throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = props.get("ProvisionedThroughput", default_throughput)
    indexes = []
    for index in props.get("GlobalSecondaryIndexes") or []:
        kept = {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
        if billing == "PROVISIONED":
            kept["ProvisionedThroughput"] = index.get("ProvisionedThroughput", default_throughput)
        indexes.append(kept)
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    sse = props.get("SSESpecification")
    if sse:
        kwargs["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
    dynamodb = registry.client("dynamodb")
    description = dynamodb.create_table(**kwargs)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return ResourceAttributes(ref=name, attributes={"Arn": description["TableArn"]})


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedrivePolicy",
    "RedriveAllowPolicy",
)


def _queue(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    name = props.get("QueueName") or registry.physical_name(logical_id, 75)
    if _text(props.get("FifoQueue", False)) == "true" and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: _text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    url = registry.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = registry.place.arn("sqs", name)
    registry.queue_urls[arn] = url
    return ResourceAttributes(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


def _event_bus(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    name = str(props["Name"])
    if name != "default":
        registry.client("events").create_event_bus(Name=name)
    arn = registry.place.arn("events", f"event-bus/{name}")
    return ResourceAttributes(ref=name, attributes={"Arn": arn, "Name": name})


def _rule(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    """The rule exists in moto for inspection; its targets are wired by the stack (bus.py)."""
    name = props.get("Name") or registry.physical_name(logical_id, 64)
    bus = str(props.get("EventBusName", "default"))
    bus_name = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
    kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus_name, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if "ScheduleExpression" in props:
        kwargs["ScheduleExpression"] = props["ScheduleExpression"]
    if props.get("Description"):
        kwargs["Description"] = props["Description"]
    from botocore.exceptions import ClientError

    try:
        arn = registry.client("events").put_rule(**kwargs)["RuleArn"]
    except ClientError as error:
        raise TemplateError(f"{logical_id}: EventBridge refused the rule: {error}") from error
    ref = name if bus_name == "default" else f"{bus_name}|{name}"
    return ResourceAttributes(ref=ref, attributes={"Arn": arn, "Name": name})


def _schedule(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    """Stored in moto's Scheduler, which never fires it; scheduler.py fires it on the stack clock."""
    from leadflow.clock import parse_iso

    name = props.get("Name") or registry.physical_name(logical_id, 64)
    target = props["Target"]
    kwargs: dict[str, Any] = {
        "Name": name,
        "ScheduleExpression": props["ScheduleExpression"],
        "FlexibleTimeWindow": props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
        "Target": {
            key: target[key]
            for key in ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig")
            if key in target
        },
        "State": props.get("State", "ENABLED"),
    }
    for key in ("GroupName", "ScheduleExpressionTimezone", "Description"):
        if props.get(key):
            kwargs[key] = props[key]
    for key in ("StartDate", "EndDate"):
        if props.get(key):
            kwargs[key] = parse_iso(str(props[key]))
    arn = registry.client("scheduler").create_schedule(**kwargs)["ScheduleArn"]
    return ResourceAttributes(ref=name, attributes={"Arn": arn})


def _secret(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    """A generated secret gets a fresh random value each start, as a new stack would."""
    secrets = registry.client("secretsmanager")
    name = props.get("Name") or registry.physical_name(logical_id, 256)
    generate = props.get("GenerateSecretString")
    if generate is not None:
        options = {
            key: generate[key]
            for key in (
                "PasswordLength",
                "ExcludeCharacters",
                "ExcludeNumbers",
                "ExcludePunctuation",
                "ExcludeUppercase",
                "ExcludeLowercase",
                "IncludeSpace",
                "RequireEachIncludedType",
            )
            if key in generate
        }
        password = secrets.get_random_password(**options)["RandomPassword"]
        if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
            document = json.loads(generate["SecretStringTemplate"])
            document[generate["GenerateStringKey"]] = password
            value = json.dumps(document)
        else:
            value = password
    else:
        value = str(props.get("SecretString") or secrets.get_random_password()["RandomPassword"])
    kwargs: dict[str, Any] = {"Name": name, "SecretString": value}
    if props.get("Description"):
        kwargs["Description"] = props["Description"]
    arn = secrets.create_secret(**kwargs)["ARN"]
    return ResourceAttributes(ref=arn, attributes={"Id": arn})


def _ses_configuration_set(
    registry: ResourceRegistry, logical_id: str, props: dict[str, Any]
) -> ResourceAttributes:
    """Exists in moto's SES v2 so a send that names it is accepted, as in AWS."""
    name = str(props.get("Name") or registry.physical_name(logical_id, 64))
    registry.client("sesv2").create_configuration_set(ConfigurationSetName=name)
    return ResourceAttributes(ref=name, attributes={})


def _bucket(registry: ResourceRegistry, logical_id: str, props: dict[str, Any]) -> ResourceAttributes:
    """An S3 bucket with the template's encryption, public access block and lifecycle (moto keeps
    them; nothing enforces them locally). Names are lower case, as S3 requires."""
    name = str(props.get("BucketName") or registry.physical_name(logical_id, 63)).lower()
    s3 = registry.client("s3")
    if registry.place.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": registry.place.region})
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [  # CloudFormation's names for the API's
                    {
                        "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                        "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                    }
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    arn = f"arn:aws:s3:::{name}"
    return ResourceAttributes(
        ref=name,
        attributes={
            "Arn": arn,
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{registry.place.region}.amazonaws.com",
        },
    )


_CREATORS: dict[str, Creator] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::ConfigurationSet": _ses_configuration_set,
}


# ------------------------------------------------------------- synthesized
def _synthesize(
    registry: ResourceRegistry, logical_id: str, kind: str, properties: dict[str, Any]
) -> ResourceAttributes:
    """Attributes of resources that are not created in moto, shaped as AWS would return them."""
    place = registry.place
    resolve = registry.resolver.resolve

    def named(key: str, limit: int = 64) -> str:
        return (
            str(resolve(properties[key])) if key in properties else registry.physical_name(logical_id, limit)
        )

    if kind == "AWS::Lambda::Function":
        name = named("FunctionName")
        return ResourceAttributes(ref=name, attributes={"Arn": place.arn("lambda", f"function:{name}")})
    if kind == "AWS::Lambda::LayerVersion":
        arn = place.arn("lambda", f"layer:{named('LayerName', 140)}:1")
        return ResourceAttributes(ref=arn, attributes={})
    if kind == "AWS::IAM::Role":
        name = named("RoleName")
        role_arn = place.arn("iam", f"role/{name}", region=False)
        return ResourceAttributes(
            ref=name, attributes={"Arn": role_arn, "RoleId": f"AROA{logical_id.upper()[:16]}"}
        )
    if kind == "AWS::Logs::LogGroup":
        name = named("LogGroupName", 512)
        return ResourceAttributes(ref=name, attributes={"Arn": place.arn("logs", f"log-group:{name}:*")})
    if kind == "AWS::ApiGatewayV2::Api":
        api_id = logical_id.lower()[:10]
        return ResourceAttributes(ref=api_id, attributes={"ApiEndpoint": place.api_url, "ApiId": api_id})
    service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
    generic = place.arn(service, logical_id)
    return ResourceAttributes(ref=registry.physical_name(logical_id), attributes={"Arn": generic})
