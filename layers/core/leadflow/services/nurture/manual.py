"""Re-driving or ending an enrollment by hand (the admin API and ``leadflow enrollments``).

Both go through the same rules as the runner: a re-drive is a step message like the watchdog's
(the worker decides what is due, so a re-drive never skips a wait or repeats an effect); an end is
the engine's ``end_by_admin`` stored under the revision read, with its ``Ended`` effect claimed and
carried out once. Effects a crashed worker left pending are finished first, as the worker would.
"""

from __future__ import annotations

from datetime import datetime

from leadflow import clock
from leadflow.adapters import step_queue
from leadflow.adapters.step_queue import StepMessage
from leadflow.domain.nurture.engine import end_by_admin
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.errors import Conflict, NotFound, TemporarilyUnavailable
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.services.nurture.effects import carry_out
from leadflow.store import contacts as contacts_store
from leadflow.store import enrollments as enrollments_store

_ATTEMPTS = 5


def _live(contact_id: str, flow_id: str) -> enrollments_store.Stored:
    if contacts_store.get_contact(contact_id) is None:
        raise NotFound(f"no contact {contact_id}")
    stored = enrollments_store.get(contact_id, flow_id)
    if stored is None:
        raise NotFound(f"contact {contact_id} has no enrollment in flow {flow_id!r}")
    enrollment = stored.enrollment
    if not enrollment.live:
        raise Conflict(
            f"the enrollment in flow {flow_id!r} is already over ({enrollment.state.value}, "
            f"{enrollment.end_reason or 'no reason'})"
        )
    return stored


def redrive(contact_id: str, flow_id: str) -> Enrollment:
    """Send a live enrollment to the step queue now; returns it as it is (the worker moves it)."""
    stored = _live(contact_id, flow_id)
    enrollment = stored.enrollment
    step_queue.send_many(
        [StepMessage(contact_id=contact_id, flow_id=flow_id, reason="overdue", revision=enrollment.revision)]
    )
    metrics.add_metric(name="EnrollmentsRedrivenByHand", unit="Count", value=1)
    logger.info("enrollment re-driven by hand", extra={"enrollment": enrollment.enrollment_id})
    return enrollment


def end(contact_id: str, flow_id: str, who: str | None = None, now: datetime | None = None) -> Enrollment:
    """End a live enrollment (``exited``, ``ended_by_admin``); returns the ended enrollment."""
    moment = now or clock.now()
    bundle = definitions.active().bundle
    for attempt in range(_ATTEMPTS):
        stored = _live(contact_id, flow_id)
        enrollment = stored.enrollment
        if stored.pending:
            carry_out(bundle, enrollment, list(stored.pending), moment)
            enrollments_store.clear_pending(enrollment)
        outcome = end_by_admin(enrollment, moment, who)
        try:
            enrollments_store.save(outcome.enrollment, enrollment.revision, list(outcome.effects))
        except enrollments_store.StaleError:
            logger.info("enrollment moved while ending it; reading again", extra={"attempt": attempt})
            continue
        carry_out(bundle, outcome.enrollment, list(outcome.effects), moment)
        enrollments_store.clear_pending(outcome.enrollment)
        metrics.add_metric(name="EnrollmentsEndedByHand", unit="Count", value=1)
        return outcome.enrollment
    raise TemporarilyUnavailable(f"the enrollment in flow {flow_id!r} kept changing; try again")
