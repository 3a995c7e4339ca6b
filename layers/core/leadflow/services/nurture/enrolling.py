"""Enrolling on an applied activity, and waking the contact's waiting enrollments.

The enrollments an activity starts are written in the activity's own transaction (conditional on
there being none, or on the previous one's revision), so a redelivered activity enrolls nobody
twice and a crash never leaves an activity applied without its enrollments. The wake-up is a
Query of the contact's partition (``FLOW#`` items), never a scan of waiting enrollments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from leadflow.adapters import step_queue
from leadflow.adapters.step_queue import StepMessage
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.observability import logger, metrics
from leadflow.store import enrollments as enrollments_store
from leadflow.store.dynamo import TransactItem

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.definitions.flows import Flow
    from leadflow.domain.activities import Activity


def enrollment_items(
    flows: Sequence[Flow], version: int, contact_id: str, activity: Activity, now: datetime
) -> tuple[list[TransactItem], list[Enrollment]]:
    """The conditional writes of the enrollments ``activity`` starts, and those enrollments."""
    from leadflow.domain.nurture.engine import Refusal, enroll  # the engine loads the flow models

    items: list[TransactItem] = []
    started: list[Enrollment] = []
    for flow in flows:
        stored = enrollments_store.get(contact_id, flow.id)
        previous = stored.enrollment if stored is not None else None
        decision = enroll(flow, version, contact_id, activity, now, previous)
        if isinstance(decision, Refusal):
            logger.debug(
                "not enrolled", extra={"flow": flow.id, "contact": contact_id, "reason": decision.reason}
            )
            continue
        items += enrollments_store.save_items(
            decision,
            previous.revision if previous is not None else None,
            [],
            expected_enrollment_id=previous.enrollment_id if previous is not None else None,
        )
        started.append(decision)
    return items, started


def announce_enrolled(started: Sequence[Enrollment]) -> None:
    """Hand new enrollments to the step queue at once; one that does not get there is due now in
    the index, so the minute run finds it."""
    if not started:
        return
    metrics.add_metric(name="Enrolled", unit="Count", value=len(started))
    try:
        step_queue.send_many(
            [
                StepMessage(
                    contact_id=item.contact_id,
                    flow_id=item.flow_id,
                    reason="enrolled",
                    revision=item.revision,
                )
                for item in started
            ]
        )
    except step_queue.EnqueueFailed as failed:
        logger.warning("new enrollments left to the minute run", extra={"count": len(failed.failed)})


def awaited_types(bundle: Bundle) -> set[str]:
    """Activity types some flow of the bundle waits for or has as its goal: any other activity
    cannot wake an enrollment, so it costs no look-up."""
    from leadflow.definitions.steps import WaitForStep  # loaded with the bundle by then

    types: set[str] = set()
    for flow in bundle.flows:
        for step in flow.steps:
            if isinstance(step, WaitForStep):
                types.add(step.wait_for.activity.value)
        if flow.exit_when is not None and flow.exit_when.activity is not None:
            types.add(flow.exit_when.activity.value)
    return types


def wake(bundle: Bundle, contact_id: str, activity: Activity) -> int:
    """Enqueue a wake for each live enrollment of the contact that this activity may move;
    returns how many. Raises when the queue refuses, so the activity is redelivered and the wake
    tried again (a lost wake would let a ``wait_for`` time out wrongly)."""
    if activity.type not in awaited_types(bundle):
        return 0
    from leadflow.domain.nurture.wakes import interesting_types  # the engine loads the flow models

    messages: list[StepMessage] = []
    for stored in enrollments_store.of_contact(contact_id):
        enrollment = stored.enrollment
        flow = bundle.flow(enrollment.flow_id)
        if not enrollment.live or flow is None:
            continue
        if activity.type in interesting_types(flow, enrollment):
            messages.append(
                StepMessage(
                    contact_id=contact_id,
                    flow_id=enrollment.flow_id,
                    reason="wake",
                    revision=enrollment.revision,
                    wake=activity,
                )
            )
    if messages:
        step_queue.send_many(messages)
        metrics.add_metric(name="EnrollmentWakes", unit="Count", value=len(messages))
    return len(messages)
