"""SES events: bounces, complaints and deliveries from the configuration set's EventBridge
destination (rule on the default bus) -> suppression, activities, domain events.

EventBridge invokes asynchronously: a failure is retried by Lambda, then parked in the function's
dead-letter queue with an alarm, never retried forever. An event that does not parse is logged by
its EventBridge id and raised, so it takes that path too. SES events hold addresses and headers:
no log line, trace or error text quotes them (``redacted_failures``).
"""

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.domain.ses_events import SesBusEvent
from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services import ses_events


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    raw_id = event.get("id") if isinstance(event, dict) else None
    event_id = raw_id[:64] if isinstance(raw_id, str) else None  # EventBridge's event UUID
    with redacted_failures("SES event unreadable; it goes to the dead-letter queue", event_id=event_id):
        try:
            bus_event = SesBusEvent.model_validate(event)
        except Exception:
            metrics.add_metric(name="SesEventsMalformed", unit="Count", value=1)
            raise
    with redacted_failures(
        "SES event not applied; it is retried, then dead-lettered",
        event_id=bus_event.id,
        ses_message_id=bus_event.detail.mail.message_id,
    ):
        report = ses_events.handle(bus_event)
    logger.info(
        "SES event",
        extra={
            "event_id": bus_event.id,
            "ses_message_id": bus_event.detail.mail.message_id,
            **report.as_log(),
        },
    )
    return {"event_type": report.event_type, "ignored": report.ignored, **report.outcomes}
