"""Housekeeping: scheduled score decay and outbox sweep (EventBridge Scheduler), and segment
rebuilds after a definitions change (EventBridge rule on the Leadflow bus)."""

from typing import Any, Literal, get_args

from aws_lambda_powertools.utilities.parser import BaseModel, Field, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.observability import logger, metrics, redacted_failures, tracer
from leadflow.services import housekeeping, segments

#: Leave this much of the invocation for the hand-over event when a rebuild must continue.
_RESERVE_MS = 30_000


Job = Literal["decay", "outbox"]
_JOBS: tuple[str, ...] = get_args(Job)


class ScheduledJob(BaseModel):
    """A schedule's input, as template.yaml sets it."""

    job: Job


class SegmentRebuild(BaseModel):
    """What to rebuild, from DefinitionsApplied or a previous run's SegmentRebuildContinued."""

    segments: list[str]
    cursor: dict[str, Any] | None = None


class BusEvent(BaseModel):
    """The part of an EventBridge event this function reads."""

    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]


def _rebuild_request(event: dict) -> SegmentRebuild:
    bridge = parse(event=event, model=BusEvent)
    detail = bridge.detail
    if bridge.detail_type == "DefinitionsApplied":
        return SegmentRebuild(segments=detail.get("rebuild_segments", []))
    return SegmentRebuild.model_validate(detail)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # A failed run is retried and then dead-lettered by Scheduler or the rule; its error text may
    # quote stored contacts (a pydantic error, a rebuild cursor), so it is logged by its kind only.
    job = event.get("job")
    with redacted_failures(
        "housekeeping run failed",
        event_id=event.get("id"),  # an EventBridge event's id; a schedule's input has none
        job=job if job in _JOBS else None,
    ):
        return _run(event, context)


def _run(event: dict, context: LambdaContext) -> dict:
    if "detail-type" in event:
        request = _rebuild_request(event)
        result = segments.rebuild(
            request.segments, request.cursor, lambda: context.get_remaining_time_in_millis() > _RESERVE_MS
        )
        logger.info("segment rebuild", extra=result)
        return result
    job = parse(event=event, model=ScheduledJob)
    report = housekeeping.decay_scores() if job.job == "decay" else housekeeping.sweep_outbox()
    logger.info(
        "housekeeping done", extra={"job": job.job, "examined": report.examined, "changed": report.changed}
    )
    return {"job": job.job, "examined": report.examined, "changed": report.changed}
