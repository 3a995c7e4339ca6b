"""Nurture: the minute run (EventBridge Scheduler) that sends due enrollments to the step queue
and counts overdue ones, the daily date-field run (``{"job": "dates"}``: birthdays and the like), and the step queue's consumer that advances each enrollment. A failing
record returns alone to the queue (partial batch response) and reaches the DLQ after the queue's
maxReceiveCount. Failures are logged by ids only: messages carry activities with personal data."""

from functools import cache
from types import ModuleType
from typing import Literal

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.adapters.step_queue import StepMessage
from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services.nurture import schedule

batch = BatchProcessor(event_type=EventType.SQS)


@cache
def _worker() -> ModuleType:
    """The step worker, with the real sender installed, imported on the first step message: the
    worker runs the flow engine, which builds every definitions model at import (about a third
    of this function's cold start), and a container that only serves the minute run needs none."""
    from leadflow.services.nurture import mailer, sending, worker

    mailer.install(sending.send_step_email)
    return worker


class MinuteRun(BaseModel):
    """The schedule's input, as template.yaml sets it."""

    job: Literal["due", "dates"]


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    with redacted_failures("step message unreadable; it returns to the queue", message_id=record.message_id):
        message = StepMessage.model_validate_json(record.body)
    with redacted_failures(
        "step not run; it returns to the queue",
        message_id=record.message_id,
        contact_id=message.contact_id,
        flow_id=message.flow_id,
        reason=message.reason,
    ):
        result = _worker().step(message)
    logger.debug("step", extra={"contact": message.contact_id, "flow": message.flow_id, "result": result})
    return result


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
    with redacted_failures("scheduled run failed", job=str(event.get("job"))[:16]):
        job = parse(event=event, model=MinuteRun).job
        if job == "dates":
            from leadflow.services.nurture import date_run

            dated = date_run.run()
            return {"job": "dates", "enrolled": dated.enrolled, "candidates": dated.candidates}
        report = schedule.run()
    logger.info("minute run", extra={"due": report.due, "overdue": report.overdue})
    return {"job": "due", "due": report.due, "overdue": report.overdue}
