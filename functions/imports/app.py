"""Imports: the import queue's consumer (plan a file, then import it chunk by chunk). A failing
message returns alone to the queue (partial batch response) and reaches the DLQ after the queue's
maxReceiveCount. Failures are logged by ids only: files hold personal data."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.adapters.import_queue import ImportMessage
from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services.imports import worker

batch = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    with redacted_failures(
        "import message unreadable; it returns to the queue", message_id=record.message_id
    ):
        message = ImportMessage.model_validate_json(record.body)
    with redacted_failures(
        "import step failed; it returns to the queue",
        message_id=record.message_id,
        import_id=message.import_id,
        step=message.step,
        chunk=str(message.chunk),
    ):
        result = worker.handle(message)
    logger.info("import step", extra={"import_id": message.import_id, "step": message.step, "result": result})
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=batch, context=context)
    )
