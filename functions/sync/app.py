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

from leadflow.observability import logger, metrics, tracer
from leadflow.services import crm_sync_queue

#: A batch whose every record failed still answers with the list (the retries set their own visibility).
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

#: The queue's maxReceiveCount (template.yaml): the last receive records the state as failed.
MAX_RECEIVES = int(os.environ.get("SYNC_MAX_RECEIVES", "8"))


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    return crm_sync_queue.run(
        record.body,
        message_id=record.message_id,
        receipt_handle=record.receipt_handle,
        attempt=int(record.attributes.approximate_receive_count or "1"),
        max_attempts=MAX_RECEIVES,
    )


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

    return crm_inbound.run_invocation(event)
