"""EventBridge rules delivering to their targets, and the delivery every rule and schedule shares.

moto matches event patterns correctly but answers HTTP 500 to ``put_events`` when a matching
rule has a Lambda target (docs/LOCAL.md). So each target of each enabled rule gets a "tap"
queue in moto: the rule's only moto target. moto's matcher fills the tap; a poller takes each
event from it and delivers it to the real target (a function, a queue, another bus), applying
the target's ``Input``/``InputPath``/``InputTransformer``. A delivery that fails returns to
the tap and is retried after its visibility timeout, then parked in the tap's DLQ.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from leadflow_local.activity import ActivityTracker
from leadflow_local.lambda_runtime import LambdaFunction
from leadflow_local.moto_bridge import SqsTimers
from leadflow_local.pollers import QueuePoller
from leadflow_local.template import RuleSpec, TargetSpec

log = logging.getLogger("leadflow_local")

TAP_VISIBILITY_SECONDS = 60  # Lambda's asynchronous retries come one and two minutes apart
TAP_MAX_RECEIVES = 3  # the first delivery and Lambda's two asynchronous retries
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


class TargetDelivery:
    """Sends one payload to one target as EventBridge (or Scheduler) would."""

    def __init__(
        self, *, functions: Mapping[str, LambdaFunction], sqs: Any, events: Any, queue_urls: Mapping[str, str]
    ):
        self._functions = functions
        self._sqs = sqs
        self._events = events
        self._queue_urls = queue_urls

    def deliver(
        self,
        target: TargetSpec,
        event: Any,
        *,
        label: str,
        rule_name: str = "",
        rule_arn: str = "",
        quiet: bool = False,
    ) -> None:
        """Deliver ``event`` (shaped by the target); raises when the target failed."""
        payload = shape_payload(target, event, rule_name=rule_name, rule_arn=rule_arn)
        started = time.monotonic()
        if target.kind == "function" and target.function is not None:
            self._functions[target.function].invoke(payload)
        elif target.kind == "queue":
            body = payload if isinstance(payload, str) else json.dumps(payload)
            kwargs: dict[str, Any] = {"QueueUrl": self._queue_urls[target.arn], "MessageBody": body}
            if target.message_group_id:
                kwargs["MessageGroupId"] = target.message_group_id
            self._sqs.send_message(**kwargs)
        elif target.kind == "bus" and isinstance(event, dict):
            self._events.put_events(
                Entries=[
                    {
                        "EventBusName": target.arn,
                        "Source": event.get("source", ""),
                        "DetailType": event.get("detail-type", ""),
                        "Detail": json.dumps(event.get("detail", {})),
                        "Resources": event.get("resources", []),
                    }
                ]
            )
        else:
            return
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s -> %s ok (%.0f ms)",
            label,
            target.function or target.arn,
            (time.monotonic() - started) * 1000,
        )


def shape_payload(target: TargetSpec, event: Any, *, rule_name: str = "", rule_arn: str = "") -> Any:
    """Apply a target's Input, InputPath or InputTransformer to the matched event."""
    if target.input is not None:
        return _json_or_text(target.input)
    if target.input_path:
        return json_path(event, target.input_path)
    if target.input_transformer:
        paths = target.input_transformer.get("InputPathsMap") or {}
        values = {name: json_path(event, path) for name, path in paths.items()}
        values.update(
            {
                "aws.events.event": event,
                "aws.events.event.json": event,
                "aws.events.rule-name": rule_name,
                "aws.events.rule-arn": rule_arn,
                "aws.events.event.ingestion-time": event.get("time", "") if isinstance(event, dict) else "",
            }
        )
        return _json_or_text(render_template(str(target.input_transformer.get("InputTemplate", "")), values))
    return event


def json_path(document: Any, path: str) -> Any:
    """The simple ``$.a.b[0]`` paths EventBridge accepts in InputPath and InputPathsMap."""
    if path in ("$", ""):
        return document
    node = document
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path[1:] if path.startswith("$") else path):
        key, index = part
        try:
            node = node[int(index)] if index else node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def render_template(template: str, values: Mapping[str, Any]) -> str:
    """EventBridge's rule: a quoted placeholder inserts text, an unquoted one inserts JSON."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        quoted = (
            match.start() > 0
            and template[match.start() - 1] == '"'
            and template[match.end() : match.end() + 1] == '"'
        )
        if quoted:
            text = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(text)[1:-1]
        return value if isinstance(value, str) else json.dumps(value)

    return _PLACEHOLDER.sub(replace, template)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class RuleTargetPoller(QueuePoller):
    """Takes events moto matched to one rule's target and delivers them one at a time."""

    def __init__(
        self,
        rule: RuleSpec,
        target: TargetSpec,
        *,
        delivery: TargetDelivery,
        account: str,
        rule_arn: str,
        queue_name: str,
        queue_url: str,
        sqs: Any,
        timers: SqsTimers,
        tracker: ActivityTracker,
        paused: threading.Event | None = None,
    ) -> None:
        super().__init__(
            queue_name=queue_name,
            queue_url=queue_url,
            batch_size=1,
            window_seconds=0,
            sqs=sqs,
            timers=timers,
            tracker=tracker,
            label=f"rule {rule.logical_id} -> {target.function or target.arn}",
            paused=paused,
        )
        self.rule = rule
        self.target = target
        self._delivery = delivery
        self._account = account
        self._rule_arn = rule_arn

    def _process(self, batch: list[dict[str, Any]]) -> None:
        for message in batch:
            event = json.loads(message["Body"])
            event.pop("ingestion-time", None)  # moto's own field; EventBridge does not send it
            event.setdefault("account", self._account)
            label = f"rule {self.rule.logical_id} ({event.get('detail-type', '?')})"
            try:
                self._delivery.deliver(
                    self.target, event, label=label, rule_name=self.rule.name, rule_arn=self._rule_arn
                )
            except Exception:
                log.exception(
                    "%s -> %s failed; retried after %d s",
                    label,
                    self.target.function or self.target.arn,
                    TAP_VISIBILITY_SECONDS,
                )
                continue
            self._delete([message["ReceiptHandle"]])


def wire_rules(
    rules: list[RuleSpec],
    *,
    delivery: TargetDelivery,
    events: Any,
    sqs: Any,
    timers: SqsTimers,
    tracker: ActivityTracker,
    account: str,
    region: str,
    stack_name: str,
    paused: threading.Event | None = None,
) -> list[RuleTargetPoller]:
    """Give every target of every enabled rule a tap queue in moto, and a poller on it."""
    pollers = []
    for rule in rules:
        if not rule.enabled:
            continue
        for index, target in enumerate(rule.targets):
            if target.kind == "unsupported":
                continue
            base = f"{stack_name}-tap-{rule.logical_id}-{index}"[:70]
            sqs.create_queue(QueueName=f"{base}-dlq")
            redrive = {
                "deadLetterTargetArn": f"arn:aws:sqs:{region}:{account}:{base}-dlq",
                "maxReceiveCount": TAP_MAX_RECEIVES,
            }
            tap_url = sqs.create_queue(
                QueueName=base,
                Attributes={
                    "VisibilityTimeout": str(TAP_VISIBILITY_SECONDS),
                    "RedrivePolicy": json.dumps(redrive),
                },
            )["QueueUrl"]
            events.put_targets(
                Rule=rule.name,
                EventBusName=rule.bus_name,
                Targets=[
                    {"Id": f"leadflow-local-tap-{index}", "Arn": f"arn:aws:sqs:{region}:{account}:{base}"}
                ],
            )
            rule_arn = f"arn:aws:events:{region}:{account}:rule/" + (
                rule.name if rule.bus_name == "default" else f"{rule.bus_name}/{rule.name}"
            )
            pollers.append(
                RuleTargetPoller(
                    rule,
                    target,
                    delivery=delivery,
                    account=account,
                    rule_arn=rule_arn,
                    queue_name=base,
                    queue_url=tap_url,
                    sqs=sqs,
                    timers=timers,
                    tracker=tracker,
                    paused=paused,
                )
            )
    return pollers
