"""template.yaml, expanded by samtranslator, read into a typed model of what the stack must run.

samtranslator turns the SAM shorthand into plain CloudFormation exactly as ``sam deploy``
would (HttpApi routes into an OpenAPI body, SQS events into event source mappings, schedules
into Scheduler schedules or rules). Reading that output, instead of the SAM source, means the
local stack sees the same resources AWS will.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from leadflow_local.errors import TemplateError
from leadflow_local.intrinsics import Resolver, as_environment_value

DUMMY_S3_URI = "s3://leadflow-local/code"
_LAMBDA_ARN = re.compile(r"^arn:[\w-]+:lambda:[\w-]+:\d+:function:[^:]+")
_INTEGRATION_ARN = re.compile(r"functions/(arn:[^/]+)/invocations")
_ANY_METHOD = "x-amazon-apigateway-any-method"
_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


# ---------------------------------------------------------------------- specs
@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function the stack loads and invokes in-process."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout_seconds: float
    memory_mb: int
    environment: dict[str, str]


@dataclass(frozen=True)
class RouteSpec:
    """One HttpApi route: ``method`` is upper case or ``ANY``; ``path`` may be ``$default``."""

    api: str
    method: str
    path: str
    function: str
    authorizer: str | None  # the security scheme's name (AWS_IAM, a JWT authorizer...) or None

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsTriggerSpec:
    """An SQS event source mapping with the settings Lambda's poller honours."""

    logical_id: str
    function: str
    queue_arn: str
    batch_size: int
    window_seconds: float
    report_failures: bool
    enabled: bool
    filters: tuple[dict[str, Any], ...] = ()

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


TargetKind = Literal["function", "queue", "bus", "unsupported"]


@dataclass(frozen=True)
class TargetSpec:
    """Where a rule or schedule delivers, and how it shapes the payload."""

    id: str
    arn: str
    kind: TargetKind
    function: str | None = None
    input: str | None = None
    input_path: str | None = None
    message_group_id: str | None = None
    retry_attempts: int = 0  # RetryPolicy.MaximumRetryAttempts (schedules; retried at once locally)
    dead_letter_arn: str | None = None  # DeadLetterConfig.Arn: where a delivery that failed goes


@dataclass(frozen=True)
class ScheduleSpec:
    """A Scheduler schedule or a scheduled EventBridge rule; the local stack fires it itself."""

    logical_id: str
    name: str
    source: Literal["scheduler", "rule"]
    expression: str
    enabled: bool
    targets: tuple[TargetSpec, ...]
    start: datetime | None = None
    end: datetime | None = None
    arn: str = ""


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule with an event pattern on a bus."""

    logical_id: str
    name: str
    bus_name: str
    pattern: dict[str, Any]
    enabled: bool
    targets: tuple[TargetSpec, ...]


@dataclass
class StackModel:
    """Everything the local stack runs, with every reference resolved."""

    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    sqs_triggers: list[SqsTriggerSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    rules: list[RuleSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- expansion
@dataclass(frozen=True)
class ExpandedTemplate:
    """The CloudFormation samtranslator produced, plus each function's local code folder."""

    path: Path
    document: dict[str, Any]
    code_uris: dict[str, str]

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document.get("Resources", {})

    def parameter_values(self, overrides: dict[str, str] | None = None) -> dict[str, Any]:
        """Each parameter's override or default; one with neither cannot be resolved locally."""
        values: dict[str, Any] = {}
        for name, spec in self.document.get("Parameters", {}).items():
            if overrides and name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default: pass a value for it")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [item.strip() for item in value.split(",")]
            values[name] = value
        unknown = set(overrides or {}) - set(values)
        if unknown:
            raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
        return values


def load_template(path: Path, region: str = "us-east-1") -> ExpandedTemplate:
    """Parse and expand a SAM template offline, keeping the local CodeUri of every function."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.yaml_helper import yaml_parse

    try:
        source = yaml_parse(path.read_text())
    except OSError as error:
        raise TemplateError(f"cannot read {path}: {error}") from error
    code_uris = _replace_local_uris(source, path.parent)
    try:
        expanded = Translator(
            managed_policy_map={}, sam_parser=Parser(), boto_session=boto3.Session(region_name=region)
        ).translate(source, parameter_values={})
    except Exception as error:  # samtranslator raises its own family; the message is what matters
        raise TemplateError(f"samtranslator could not expand {path.name}: {error}") from error
    return ExpandedTemplate(path=path, document=expanded, code_uris=code_uris)


def _replace_local_uris(source: dict[str, Any], root: Path) -> dict[str, str]:
    """The translator insists on S3 URIs (as ``sam validate`` does); remember the local ones."""
    global_function = source.get("Globals", {}).get("Function", {})
    global_code = global_function.get("CodeUri")
    if isinstance(global_code, str):
        global_function["CodeUri"] = DUMMY_S3_URI
    code_uris: dict[str, str] = {}
    for logical_id, resource in source.get("Resources", {}).items():
        properties = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            uri = properties.get("CodeUri", global_code)
            if isinstance(uri, str) and not uri.startswith("s3://"):
                code_uris[logical_id] = uri
                properties["CodeUri"] = DUMMY_S3_URI
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(properties.get("ContentUri"), str):
            properties["ContentUri"] = DUMMY_S3_URI
        elif kind in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
            definition = properties.get("DefinitionUri")
            if isinstance(definition, str) and not definition.startswith("s3://"):
                from samtranslator.yaml_helper import yaml_parse

                properties.pop("DefinitionUri")
                properties["DefinitionBody"] = yaml_parse((root / definition).read_text())
    return code_uris


# -------------------------------------------------------------------- model
def build_model(template: ExpandedTemplate, resolver: Resolver, active: set[str]) -> StackModel:
    """The typed model of what runs locally; ``active`` are the logical ids whose condition holds."""
    model = StackModel()
    resources = {lid: res for lid, res in template.resources.items() if lid in active}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::Function":
            model.functions[logical_id] = _function(template, resolver, logical_id, resource)
    by_arn = {spec.arn: spec.logical_id for spec in model.functions.values()}

    def target(raw: dict[str, Any], fallback_id: str) -> TargetSpec:
        return _target(resolver, raw, fallback_id, by_arn, model.warnings)

    for logical_id, resource in resources.items():
        kind = resource["Type"]
        properties = resource.get("Properties") or {}
        if kind == "AWS::ApiGatewayV2::Api":
            model.routes.extend(_routes(resolver, logical_id, properties, by_arn, model.warnings))
        elif kind == "AWS::Lambda::EventSourceMapping":
            trigger = _event_source(resolver, logical_id, properties, by_arn, model.warnings)
            if trigger is not None:
                model.sqs_triggers.append(trigger)
        elif kind == "AWS::Scheduler::Schedule":
            model.schedules.append(_scheduler_schedule(resolver, logical_id, properties, target))
        elif kind == "AWS::Events::Rule":
            _rule(resolver, logical_id, properties, target, model)
        elif kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            model.warnings.append(f"{logical_id}: REST APIs are not served locally (only HttpApi)")
    return model


def _function(
    template: ExpandedTemplate, resolver: Resolver, logical_id: str, resource: dict[str, Any]
) -> FunctionSpec:
    properties = resource.get("Properties") or {}
    if properties.get("PackageType") == "Image":
        raise TemplateError(f"{logical_id}: container image functions cannot run in-process")
    uri = template.code_uris.get(logical_id)
    if uri is None:
        raise TemplateError(f"{logical_id}: the local stack runs functions with a local CodeUri only")
    attributes = resolver.get_att(logical_id, "Arn"), resolver.ref(logical_id)
    variables = resolver.resolve((properties.get("Environment") or {}).get("Variables") or {})
    return FunctionSpec(
        logical_id=logical_id,
        name=str(attributes[1]),
        arn=str(attributes[0]),
        code_dir=(template.root / uri).resolve(),
        handler=str(resolver.resolve(properties.get("Handler", "app.lambda_handler"))),
        timeout_seconds=float(resolver.resolve(properties.get("Timeout", 3))),
        memory_mb=int(resolver.resolve(properties.get("MemorySize", 128))),
        environment={name: as_environment_value(value, name) for name, value in variables.items()},
    )


def function_for_arn(arn: str, by_arn: dict[str, str]) -> str | None:
    """The function an ARN names, with or without an alias or version qualifier."""
    match = _LAMBDA_ARN.match(arn)
    return by_arn.get(match.group(0)) if match else None


def _routes(
    resolver: Resolver,
    api_id: str,
    properties: dict[str, Any],
    by_arn: dict[str, str],
    warnings: list[str],
) -> list[RouteSpec]:
    body = properties.get("Body")
    if not isinstance(body, dict):
        warnings.append(f"{api_id}: no inline OpenAPI body, so it has no local routes")
        return []
    api_security = body.get("security")
    routes = []
    for path, operations in (body.get("paths") or {}).items():
        for method_key, operation in operations.items():
            if method_key != _ANY_METHOD and method_key not in _HTTP_METHODS:
                continue
            method = "ANY" if method_key == _ANY_METHOD else method_key.upper()
            integration = operation.get("x-amazon-apigateway-integration") or {}
            where = f"{api_id} {method} {path}"
            if str(integration.get("payloadFormatVersion", "2.0")) != "2.0":
                raise TemplateError(f"{where}: payload format 1.0 is not emulated locally (use 2.0)")
            uri = str(resolver.resolve(integration.get("uri", "")))
            match = _INTEGRATION_ARN.search(uri)
            function = function_for_arn(match.group(1), by_arn) if match else None
            if function is None:
                warnings.append(f"{where}: integration {uri!r} is not a local function; route skipped")
                continue
            routes.append(
                RouteSpec(
                    api=api_id,
                    method=method,
                    path="$default" if path == "/$default" else path,
                    function=function,
                    authorizer=_authorizer(operation.get("security", api_security)),
                )
            )
    return routes


def _authorizer(security: Any) -> str | None:
    """The first named scheme that guards the operation; ``NONE`` or ``[]`` means open."""
    for requirement in security or []:
        for name in requirement or {}:
            if name != "NONE":
                return str(name)
    return None


def _event_source(
    resolver: Resolver,
    logical_id: str,
    properties: dict[str, Any],
    by_arn: dict[str, str],
    warnings: list[str],
) -> SqsTriggerSpec | None:
    resolved = resolver.resolve(properties)
    source = str(resolved.get("EventSourceArn", ""))
    if ":sqs:" not in source:
        warnings.append(f"{logical_id}: event source {source or '(none)'} is not emulated locally (SQS only)")
        return None
    name = str(resolved.get("FunctionName", ""))
    function = function_for_arn(name, by_arn) or next(
        (lid for arn, lid in by_arn.items() if arn.rsplit(":", 1)[-1] == name), None
    )
    if function is None:
        raise TemplateError(f"{logical_id}: FunctionName {name!r} is not a function of this template")
    filters = tuple(
        json.loads(item["Pattern"]) if isinstance(item.get("Pattern"), str) else item.get("Pattern", {})
        for item in (resolved.get("FilterCriteria") or {}).get("Filters", [])
    )
    return SqsTriggerSpec(
        logical_id=logical_id,
        function=function,
        queue_arn=source,
        batch_size=int(resolved.get("BatchSize", 10)),
        window_seconds=float(resolved.get("MaximumBatchingWindowInSeconds", 0)),
        report_failures="ReportBatchItemFailures" in (resolved.get("FunctionResponseTypes") or []),
        enabled=_truthy(resolved.get("Enabled", True)),
        filters=filters,
    )


def _target(
    resolver: Resolver, raw: dict[str, Any], fallback_id: str, by_arn: dict[str, str], warnings: list[str]
) -> TargetSpec:
    resolved = resolver.resolve(raw)
    arn = str(resolved.get("Arn", ""))
    if "InputTransformer" in resolved:
        raise TemplateError(
            f"target {resolved.get('Id', fallback_id)}: InputTransformer is not emulated locally "
            "(template.yaml uses Input and InputPath only)"
        )
    function = function_for_arn(arn, by_arn)
    kind: TargetKind
    if function is not None:
        kind = "function"
    elif ":sqs:" in arn:
        kind = "queue"
    elif ":events:" in arn and ":event-bus/" in arn:
        kind = "bus"
    else:
        kind = "unsupported"
        warnings.append(f"target {resolved.get('Id', fallback_id)} ({arn}) is not delivered locally")
    group = (resolved.get("SqsParameters") or {}).get("MessageGroupId")
    return TargetSpec(
        id=str(resolved.get("Id", fallback_id)),
        arn=arn,
        kind=kind,
        function=function,
        input=resolved.get("Input"),
        input_path=resolved.get("InputPath"),
        message_group_id=group,
        retry_attempts=int((resolved.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 0)),
        dead_letter_arn=(resolved.get("DeadLetterConfig") or {}).get("Arn"),
    )


def _scheduler_schedule(
    resolver: Resolver, logical_id: str, properties: dict[str, Any], target: Any
) -> ScheduleSpec:
    resolved = resolver.resolve({key: value for key, value in properties.items() if key != "Target"})
    return ScheduleSpec(
        logical_id=logical_id,
        name=str(resolver.ref(logical_id)),
        source="scheduler",
        expression=str(resolved["ScheduleExpression"]),
        enabled=str(resolved.get("State", "ENABLED")).upper() == "ENABLED",
        targets=(target(properties["Target"], f"{logical_id}Target"),),
        start=_datetime(resolved.get("StartDate")),
        end=_datetime(resolved.get("EndDate")),
        arn=str(resolver.get_att(logical_id, "Arn")),
    )


def _rule(
    resolver: Resolver, logical_id: str, properties: dict[str, Any], target: Any, model: StackModel
) -> None:
    resolved = resolver.resolve({key: value for key, value in properties.items() if key != "Targets"})
    targets = tuple(
        target(raw, f"{logical_id}Target{index}") for index, raw in enumerate(properties.get("Targets", []))
    )
    enabled = str(resolved.get("State", "ENABLED")).upper() == "ENABLED"
    name = str(resolver.get_att(logical_id, "Name"))
    if "ScheduleExpression" in resolved:
        model.schedules.append(
            ScheduleSpec(
                logical_id=logical_id,
                name=name,
                source="rule",
                expression=str(resolved["ScheduleExpression"]),
                enabled=enabled,
                targets=targets,
                arn=str(resolver.get_att(logical_id, "Arn")),
            )
        )
    if "EventPattern" in resolved:
        pattern = resolved["EventPattern"]
        model.rules.append(
            RuleSpec(
                logical_id=logical_id,
                name=name,
                bus_name=_bus_name(str(resolved.get("EventBusName", "default"))),
                pattern=json.loads(pattern) if isinstance(pattern, str) else copy.deepcopy(pattern),
                enabled=enabled,
                targets=targets,
            )
        )


def _bus_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    from leadflow.clock import parse_iso

    return parse_iso(str(value))


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
