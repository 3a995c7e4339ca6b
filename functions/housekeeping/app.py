"""Housekeeping: scheduled score decay and the activity outbox sweep (EventBridge Scheduler)."""

from typing import Literal

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.observability import logger, metrics, tracer
from leadflow.services import housekeeping


class ScheduledJob(BaseModel):
    """The schedule's input, as template.yaml sets it."""

    job: Literal["decay", "outbox"]


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    job = parse(event=event, model=ScheduledJob)
    report = housekeeping.decay_scores() if job.job == "decay" else housekeeping.sweep_outbox()
    logger.info(
        "housekeeping done", extra={"job": job.job, "examined": report.examined, "changed": report.changed}
    )
    return {"job": job.job, "examined": report.examined, "changed": report.changed}
