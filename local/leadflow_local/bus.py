"""EventBridge rules delivering to their targets, and the delivery every rule and schedule shares.

moto matches event patterns correctly but answers HTTP 500 to ``put_events`` when a matching
rule has a Lambda target (docs/LOCAL.md). So each target of each enabled rule gets a "tap"
queue in moto: the rule's only moto target. moto's matcher fills the tap; a poller takes each
event from it and delivers it to the real target (a function, a queue, another bus), applying
the target's ``Input`` or ``InputPath`` (template.py refuses an ``InputTransformer``). A delivery that fails returns to
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
        quiet: bool = False,
    ) -> None:
        """Deliver ``event`` (shaped by the target); raises when the target failed."""
        payload = shape_payload(target, event)
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

    def dead_letter(self, arn: str, event: Any, attributes: Mapping[str, str]) -> None:
        """Park an event whose delivery failed in the target's dead-letter queue, as Scheduler does."""
        self._sqs.send_message(
            QueueUrl=self._queue_urls[arn],
            MessageBody=event if isinstance(event, str) else json.dumps(event),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )


def shape_payload(target: TargetSpec, event: Any) -> Any:
    """Apply a target's Input or InputPath to the matched event."""
    if target.input is not None:
        return _json_or_text(target.input)
    if target.input_path:
        return json_path(event, target.input_path)
    return event


def json_path(document: Any, path: str) -> Any:
    """The simple ``$.a.b[0]`` paths EventBridge accepts in InputPath."""
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

    def _process(self, batch: list[dict[str, Any]]) -> None:
        for message in batch:
            event = json.loads(message["Body"])
            event.pop("ingestion-time", None)  # moto's own field; EventBridge does not send it
            event.setdefault("account", self._account)
            label = f"rule {self.rule.logical_id} ({event.get('detail-type', '?')})"
            try:
                self._delivery.deliver(self.target, event, label=label)
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
            pollers.append(
                RuleTargetPoller(
                    rule,
                    target,
                    delivery=delivery,
                    account=account,
                    queue_name=base,
                    queue_url=tap_url,
                    sqs=sqs,
                    timers=timers,
                    tracker=tracker,
                    paused=paused,
                )
            )
    return pollers
