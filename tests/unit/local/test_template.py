"""samtranslator expansion read into the typed model: functions, routes, SQS, schedules, rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from leadflow_local.errors import TemplateError
from leadflow_local.intrinsics import Resolver, ResourceAttributes
from leadflow_local.resources import AwsPlace
from leadflow_local.template import ExpandedTemplate, build_model, load_template

FIXTURE = Path(__file__).resolve().parents[2] / "e2e" / "fixture_app" / "template.yaml"
ARN = "arn:aws:{service}:us-east-1:123456789012:{resource}"


def offline_resolver(template: ExpandedTemplate) -> Resolver:
    """Attributes shaped like the local stack's, without creating anything."""

    def lookup(logical_id: str) -> ResourceAttributes:
        kind = template.resources[logical_id]["Type"]
        name = f"local-{logical_id}"
        if kind == "AWS::Lambda::Function":
            return ResourceAttributes(
                name, {"Arn": ARN.format(service="lambda", resource=f"function:{name}")}
            )
        if kind == "AWS::SQS::Queue":
            return ResourceAttributes(
                f"http://moto/123456789012/{name}", {"Arn": ARN.format(service="sqs", resource=name)}
            )
        if kind == "AWS::Events::Rule":
            return ResourceAttributes(
                name, {"Arn": ARN.format(service="events", resource=f"rule/{name}"), "Name": name}
            )
        return ResourceAttributes(
            name, {"Arn": ARN.format(service="x", resource=name), "ApiEndpoint": "http://local"}
        )

    return Resolver(
        parameters=template.parameter_values(),
        pseudo=AwsPlace("http://moto", "us-east-1", "123456789012", "local", "http://local").pseudo,
        lookup=lookup,
        conditions=template.document.get("Conditions") or {},
    )


@pytest.fixture(scope="module")
def fixture_model():
    template = load_template(FIXTURE)
    return template, build_model(template, offline_resolver(template), set(template.resources))


def test_functions_keep_their_local_code_and_resolved_environment(fixture_model) -> None:
    _, model = fixture_model
    api = model.functions["ApiFunction"]
    assert api.code_dir == FIXTURE.parent / "functions" / "api"
    assert api.handler == "app.lambda_handler"
    assert api.timeout_seconds == 5
    assert api.environment["RESULTS_TABLE"] == "local-Results"
    assert api.environment["WORK_QUEUE_URL"] == "http://moto/123456789012/local-WorkQueue"
    assert api.environment["GREETING"] == "hello"


def test_http_api_routes_with_their_authorizer(fixture_model) -> None:
    _, model = fixture_model
    routes = {route.route_key: route for route in model.routes}
    assert set(routes) == {
        "ANY /echo/{proxy+}",
        "GET /things/{thing_id}",
        "GET /things/special",
        "POST /boom",
        "POST /send",
        "GET /private",
    }
    assert routes["GET /private"].authorizer == "AWS_IAM"
    assert routes["POST /boom"].authorizer is None
    assert {route.function for route in model.routes} == {"ApiFunction"}


def test_sqs_event_source_mapping_settings(fixture_model) -> None:
    _, model = fixture_model
    (trigger,) = model.sqs_triggers
    assert (trigger.function, trigger.queue_name, trigger.batch_size) == (
        "WorkerFunction",
        "local-WorkQueue",
        5,
    )
    assert trigger.report_failures is True
    assert trigger.enabled is True


def test_schedule_v2_becomes_a_scheduler_schedule_targeting_the_function(fixture_model) -> None:
    _, model = fixture_model
    schedule = next(entry for entry in model.schedules if entry.logical_id == "JobsFunctionTick")
    assert (schedule.source, schedule.expression, schedule.enabled) == ("scheduler", "rate(5 minutes)", True)
    (target,) = schedule.targets
    assert (target.kind, target.function) == ("function", "JobsFunction")
    assert "<aws.scheduler.scheduled-time>" in (target.input or "")


def test_event_rules_with_function_and_queue_targets(fixture_model) -> None:
    _, model = fixture_model
    rules = {rule.logical_id: rule for rule in model.rules}
    signal = rules["JobsFunctionSignal"]
    assert signal.bus_name == "local-Bus"
    assert signal.pattern == {"source": ["fixture"], "detail-type": ["Signal"]}
    assert [(t.kind, t.function) for t in signal.targets] == [("function", "JobsFunction")]
    (copy_target,) = rules["CopyRule"].targets
    assert (copy_target.kind, copy_target.input_path) == ("queue", "$.detail")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\n" + textwrap.dedent(body))
    return path


def test_schedule_retry_policy_and_dead_letter_queue_reach_the_target(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Resources:
          Parked:
            Type: AWS::SQS::Queue
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: fn/
              Handler: app.handler
              Runtime: python3.13
              Events:
                Hourly:
                  Type: ScheduleV2
                  Properties:
                    ScheduleExpression: rate(1 hour)
                    RetryPolicy: {MaximumRetryAttempts: 2}
                    DeadLetterConfig: {Arn: !GetAtt Parked.Arn}
        """,
    )
    template = load_template(path)
    model = build_model(template, offline_resolver(template), set(template.resources))
    (schedule,) = model.schedules
    (target,) = schedule.targets
    assert (target.function, target.retry_attempts) == ("Fn", 2)
    assert target.dead_letter_arn == ARN.format(service="sqs", resource="local-Parked")


def test_an_input_transformer_is_refused_at_start(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Resources:
          Parked:
            Type: AWS::SQS::Queue
          Shaped:
            Type: AWS::Events::Rule
            Properties:
              EventPattern: {source: [x]}
              Targets:
                - Id: shaped
                  Arn: !GetAtt Parked.Arn
                  InputTransformer: {InputTemplate: '"<id>"', InputPathsMap: {id: $.id}}
        """,
    )
    template = load_template(path)
    with pytest.raises(TemplateError, match="InputTransformer is not emulated locally"):
        build_model(template, offline_resolver(template), set(template.resources))


def test_scheduled_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: fn/
              Handler: app.handler
              Runtime: python3.13
              Events:
                Daily:
                  Type: Schedule
                  Properties: {Schedule: "rate(1 day)"}
        """,
    )
    template = load_template(path)
    model = build_model(template, offline_resolver(template), set(template.resources))
    (schedule,) = model.schedules
    assert (schedule.source, schedule.expression) == ("rule", "rate(1 day)")
    assert schedule.targets[0].function == "Fn"


def test_payload_format_1_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: fn/
              Handler: app.handler
              Runtime: python3.13
              Events:
                Get:
                  Type: HttpApi
                  Properties: {Path: /a, Method: GET, PayloadFormatVersion: "1.0"}
        """,
    )
    template = load_template(path)
    with pytest.raises(TemplateError, match=r"payload format 1\.0"):
        build_model(template, offline_resolver(template), set(template.resources))


def test_parameter_without_default_needs_a_value(tmp_path: Path) -> None:
    path = write(
        tmp_path, "Parameters:\n  Domain: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n"
    )
    template = load_template(path)
    with pytest.raises(TemplateError, match="Domain has no Default"):
        template.parameter_values()
    assert template.parameter_values({"Domain": "example.com"}) == {"Domain": "example.com"}
    with pytest.raises(TemplateError, match="unknown template parameters"):
        template.parameter_values({"Domain": "x", "Other": "y"})
