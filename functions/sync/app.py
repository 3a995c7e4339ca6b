"""CRM sync: membership events from the bus (through the sync queue) out to each campaign's
connector, and the Salesforce inbound poll (EventBridge Scheduler) or Event Relay (a rule on the
partner bus) back in as ``crm_status_changed`` activities.

Queue records fail alone (partial batch response). A failure a retry may fix comes back after a
backoff with jitter that the worker sets as the message's visibility timeout; after the queue's
``maxReceiveCount`` receives, or at once when no retry can fix it, the message waits in the
dead-letter queue (alarmed) for ``leadflow connectors replay``. Logs name ids, never contacts.
"""

import os

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.adapters import sync_queue
from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services import crm_sync

#: A batch whose every record failed still answers with the list (the retries set their own visibility).
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

#: The queue's maxReceiveCount (template.yaml): the last receive records the state as failed.
MAX_RECEIVES = int(os.environ.get("SYNC_MAX_RECEIVES", "8"))


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    attempt = int(record.attributes.approximate_receive_count or "1")
    with redacted_failures(
        "sync message unreadable; it goes to the dead-letter queue", message_id=record.message_id
    ):
        try:
            message = crm_sync.SyncMessage.model_validate_json(record.body)
        except ValueError:
            metrics.add_metric(name="CrmSyncMalformed", unit="Count", value=1)
            sync_queue.dead_letter(record.body, reason="malformed")
            return "malformed"
    detail = message.detail
    later: crm_sync.RetryLater | None = None
    dead: crm_sync.DeadLetter | None = None
    with redacted_failures(
        "sync not done; it returns to the queue",
        message_id=record.message_id,
        event_id=detail.event_id,
        contact_id=detail.contact_id,
        campaign_id=detail.campaign_id,
    ):
        try:
            report = crm_sync.handle(message, attempt=attempt, max_attempts=MAX_RECEIVES)
        except crm_sync.RetryLater as error:
            later = error
        except crm_sync.DeadLetter as error:
            dead = error
        if later is not None:
            sync_queue.retry_later(record.receipt_handle, later.seconds)
        if dead is not None:
            sync_queue.dead_letter(record.body, reason=dead.reason)
    if later is not None:  # raised outside the redacting block: its text holds no personal data
        metrics.add_metric(name="CrmSyncRetried", unit="Count", value=1)
        logger.info(
            "sync retried",
            extra={"event_id": detail.event_id, "in_seconds": later.seconds, "reason": later.reason},
        )
        raise later
    if dead is not None:
        metrics.add_metric(name="CrmSyncDeadLettered", unit="Count", value=1)
        logger.warning("sync dead-lettered", extra={"event_id": detail.event_id, "reason": dead.reason})
        return "dead_letter"
    metrics.add_metric(name=f"CrmSync_{report.outcome}", unit="Count", value=1)
    logger.info(
        "sync", extra={"event_id": detail.event_id, "contact_id": detail.contact_id, **report.as_log()}
    )
    return report.outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "Records" in event:
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=batch, context=context
            )
        )
    from leadflow.services import crm_inbound

    if event.get("job") == "poll":
        with redacted_failures("inbound poll failed", job="poll"):
            report = crm_inbound.poll()
        logger.info("inbound poll", extra=report.as_log())
        return report.as_log()
    with redacted_failures("inbound event not applied", event_id=str(event.get("id"))[:64]):
        if not str(event.get("source", "")).startswith(crm_inbound.EVENT_RELAY_SOURCE):
            raise ValueError("not a sync queue batch, a poll or a Salesforce Event Relay event")
        report = crm_inbound.relay(event)
    logger.info("inbound event", extra=report.as_log())
    return report.as_log()
