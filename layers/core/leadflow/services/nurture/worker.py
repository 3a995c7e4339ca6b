"""The step worker: advance one enrollment with the engine and carry out what it returns.

1. Finish the effects a crashed worker left pending on the enrollment (each once, by its id).
2. A timer message for another revision is stale: nothing to do (its sender saw an older state).
3. ``advance`` with the contact, the active bundle and the wake; nothing changed: write nothing.
4. Store the new enrollment conditional on the revision read, claiming its effects in the same
   transaction: of two racing workers one wins, the other stops here having done nothing.
5. Carry out the effects, then clear them from the enrollment. A run that spent the engine's step
   budget (``active``, due now) continues at once, up to a few rounds, then leaves it to the queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.adapters.step_queue import StepMessage
from leadflow.domain.nurture import channels, send_time
from leadflow.domain.nurture.effects import Effect
from leadflow.domain.nurture.engine import advance, fail
from leadflow.domain.nurture.enrollment import Enrollment, EnrollmentState
from leadflow.domain.nurture.inputs import FlowVersions, NurtureContact, NurtureSettings, Wake
from leadflow.domain.state import state_of
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.services.nurture.effects import carry_out
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import enrollments as enrollments_store

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.definitions.flows import Flow

_ROUNDS = 4
_HISTORY = 200
"""Recent activities read for the contact's engagement (best send time) and channel rates."""


def step(message: StepMessage, now: datetime | None = None) -> str:
    """Handle one step message; returns what happened (for logs and tests)."""
    moment = now or clock.now()
    stored = enrollments_store.get(message.contact_id, message.flow_id)
    if stored is None:
        return "missing"
    active = definitions.active()
    bundle = active.bundle
    enrollment = stored.enrollment
    if stored.pending:
        _finish(bundle, enrollment, list(stored.pending), moment)
        metrics.add_metric(name="EffectsRecovered", unit="Count", value=1)
    if message.wake is None and message.revision is not None and message.revision != enrollment.revision:
        return "stale"
    wake = Wake(message.wake) if message.wake is not None else None
    result = "unchanged"
    for _ in range(_ROUNDS):
        flow = bundle.flow(enrollment.flow_id)
        pinned = flow if enrollment.flow_version == active.version else _flow_of_version(enrollment)
        versions = FlowVersions(active=flow, active_version=active.version, pinned=pinned)
        contact = _nurture_contact(enrollment.contact_id, moment)
        settings = NurtureSettings(default_time_zone=bundle.default_time_zone, scoring=bundle.scoring)
        outcome = advance(versions, enrollment, contact, moment, wake, settings)
        if not outcome.changed:
            if enrollment.state is EnrollmentState.PAUSED:
                enrollments_store.recheck_later(enrollment, moment)
                return "paused"
            if wake is None and result == "unchanged":
                enrollments_store.settle_line(enrollment)  # a line left early (a pending recheck)
            return result
        try:
            enrollments_store.save(outcome.enrollment, enrollment.revision, list(outcome.effects))
        except enrollments_store.StaleError:
            metrics.add_metric(name="EnrollmentRaces", unit="Count", value=1)
            return "raced"
        enrollment = outcome.enrollment
        result = "advanced"
        enrollment = _finish(bundle, enrollment, list(outcome.effects), moment)
        if enrollment.state is not EnrollmentState.ACTIVE:
            return result
        wake = None  # the step budget was spent: continue on the timer
    return result


def _finish(bundle: Bundle, enrollment: Enrollment, effects: list[Effect], now: datetime) -> Enrollment:
    """Carry out the pending effects; a rejected email fails the enrollment (stored the same way)."""
    rejected = carry_out(bundle, enrollment, effects, now)
    enrollments_store.clear_pending(enrollment, settle=bool(effects))
    if rejected is None:
        return enrollment
    failed = fail(enrollment, now, rejected)
    if failed.changed:
        try:
            enrollments_store.save(failed.enrollment, enrollment.revision, list(failed.effects))
        except enrollments_store.StaleError:
            return enrollment
        carry_out(bundle, failed.enrollment, list(failed.effects), now)
        enrollments_store.clear_pending(failed.enrollment)
        logger.info("enrollment failed", extra={"enrollment": enrollment.enrollment_id, "reason": rejected})
        return failed.enrollment
    return enrollment


def _bundle_of_version(version: int) -> Bundle | None:
    """Read only for enrollments on a version older than the active one (one GetItem)."""
    from leadflow.definitions import load_stored

    stored = campaigns_store.get_definitions_version(version)
    return load_stored(stored.bundle) if stored is not None else None


def _flow_of_version(enrollment: Enrollment) -> Flow | None:
    """The flow as the enrollment's version had it (for ``keep_version``), or None if unknown."""
    old = _bundle_of_version(enrollment.flow_version)
    return old.flow(enrollment.flow_id) if old is not None else None


def _nurture_contact(contact_id: str, now: datetime) -> NurtureContact | None:
    contact = contacts_store.get_contact(contact_id, consistent=True)
    if contact is None or str(contact.status) == "erased":
        return None
    history = contacts_store.recent_activities(contact_id, limit=_HISTORY)
    return NurtureContact(
        state=state_of(contact),
        engagement=tuple(send_time.engagements(history)),
        channels=channels.channel_view(channels.touches(history), dict(contact.fields), now),
    )
