"""Reports: the report queue's consumer. Each record is one domain event the bus rule sent here;
it is counted exactly once (a claim by ``event_id`` in the same transaction as the counters). A
failing record returns alone to the queue (partial batch response) and reaches the DLQ after the
queue's maxReceiveCount. Failures are logged by ids: an event's detail is not quoted."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.domain.aggregates import BusEvent
from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services import reports

batch = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    with redacted_failures("report event unreadable; it returns to the queue", message_id=record.message_id):
        event = BusEvent.model_validate_json(record.body)
    with redacted_failures(
        "report event not counted; it returns to the queue",
        message_id=record.message_id,
        detail_type=event.detail_type,
        event_id=str(event.detail.get("event_id"))[:64],
    ):
        result = reports.count(event)
    metrics.add_metric(
        name="ReportEventsDuplicate" if result == "duplicate" else "ReportEventsCounted",
        unit="Count",
        value=1,
    )
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
