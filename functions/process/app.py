"""Process: the activity queue's consumer. Each record is one activity, applied exactly once;
a failing record returns alone to the queue (partial batch response) and reaches the DLQ
after the queue's maxReceiveCount. A failure is logged by message and activity id: bodies
hold personal data, so no log line, trace or batch report quotes them."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.domain.activities import Activity
from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services import processor

batch = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    with redacted_failures(
        "activity message unreadable; it returns to the queue", message_id=record.message_id
    ):
        activity = Activity.from_message(record.body)
    with redacted_failures(
        "activity not applied; it returns to the queue",
        message_id=record.message_id,
        activity_id=activity.activity_id,
    ):
        return processor.handle(activity)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
