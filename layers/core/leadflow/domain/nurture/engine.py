"""The engine's two entry points: ``enroll`` a contact, and ``advance`` an enrollment.

``advance`` is pure and deterministic: the same flow, enrollment, contact, time and wake give the
same enrollment and the same effects, with the same ids. So a runner that crashes after some
effects and replays the advance repeats nothing: it skips the effect ids it already carried out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadflow.definitions.durations import format_duration
from leadflow.definitions.steps import WaitForStep
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import SubscriptionStatus
from leadflow.domain.nurture.effects import Effect, Ended
from leadflow.domain.nurture.enrollment import (
    PATH_LIMIT,
    Enrollment,
    EnrollmentState,
    Hold,
    PathEntry,
    effect_id,
)
from leadflow.domain.nurture.entry import Refusal, enroll
from leadflow.domain.nurture.inputs import FlowVersions, NurtureContact, NurtureSettings, Wake
from leadflow.domain.nurture.run import Run, describe
from leadflow.domain.nurture.versions import resolve
from leadflow.domain.nurture.wakes import aware, matches

__all__ = ["Advance", "Refusal", "advance", "end_by_admin", "enroll", "fail"]

UNREACHABLE = {
    SubscriptionStatus.UNSUBSCRIBED.value,
    SubscriptionStatus.BOUNCED.value,
    SubscriptionStatus.COMPLAINED.value,
}
"""A contact in one of these states gets nothing more: the enrollment ends with ``contact_<state>``."""


@dataclass(frozen=True, slots=True)
class Advance:
    """The enrollment after the advance and the effects to carry out, in order.

    ``changed`` is False when nothing happened (an early timer, a wake that does not match):
    then the runner writes nothing."""

    enrollment: Enrollment
    effects: tuple[Effect, ...] = ()
    changed: bool = True


def _end(enrollment: Enrollment, now: datetime, state: EnrollmentState, reason: str) -> Advance:
    ended = enrollment.model_copy(
        update={
            "state": state,
            "hold": None,
            "due_at": None,
            "awaiting": None,
            "ended_at": now,
            "end_reason": reason,
            "revision": enrollment.revision + 1,
        }
    )
    effect = Ended(
        effect_id=effect_id(enrollment.enrollment_id, "", 0, "ended"),
        enrollment_id=enrollment.enrollment_id,
        step_id=enrollment.step_id,
        state=state.value,
        reason=reason,
    )
    return Advance(ended, (effect,))


def fail(enrollment: Enrollment, now: datetime, reason: str) -> Advance:
    """End an enrollment whose current step's effect failed for good (SES rejected the address,
    say): state ``failed`` with the reason, and nothing more is sent."""
    if not enrollment.live:
        return Advance(enrollment, changed=False)
    return _end(enrollment, now, EnrollmentState.FAILED, reason)


ENDED_BY_ADMIN = "ended_by_admin"


def end_by_admin(enrollment: Enrollment, now: datetime, who: str | None = None) -> Advance:
    """End a live enrollment by hand: state ``exited``, reason ``ended_by_admin``, the path saying
    so (and who, when known). An enrollment already over is left as it is (``changed`` False)."""
    if not enrollment.live:
        return Advance(enrollment, changed=False)
    note = PathEntry(
        step_id=enrollment.step_id or "",
        kind="admin",
        at=now,
        version=enrollment.flow_version,
        outcome="ended",
        why=f"ended by {who}" if who else "ended by an admin",
    )
    marked = enrollment.model_copy(update={"path": [*enrollment.path, note][-PATH_LIMIT:]})
    return _end(marked, now, EnrollmentState.EXITED, ENDED_BY_ADMIN)


def advance(
    versions: FlowVersions,
    enrollment: Enrollment,
    contact: NurtureContact | None,
    now: datetime,
    wake: Wake | None = None,
    settings: NurtureSettings | None = None,
) -> Advance:
    """Run ``enrollment`` as far as it goes at ``now``: on a timer (``wake`` None: the due time came,
    or the runner re-drives it) or on an activity of the contact (``wake``).

    ``contact`` None means the contact was erased."""
    if not enrollment.live:
        return Advance(enrollment, changed=False)
    resolved = resolve(versions, enrollment)
    if isinstance(resolved, str):
        return _end(enrollment, now, EnrollmentState.EXITED, resolved)
    if contact is None:
        return _end(enrollment, now, EnrollmentState.EXITED, "contact_erased")
    if contact.state.status in UNREACHABLE:
        return _end(enrollment, now, EnrollmentState.EXITED, f"contact_{contact.state.status}")
    run = Run(resolved.flow, resolved.version, enrollment, contact, now, settings or NurtureSettings())
    if resolved.why is not None:
        run.note(enrollment.step_id or "", "version", "moved", resolved.why)
    if not resolved.flow.enabled:
        if enrollment.state is EnrollmentState.PAUSED and resolved.why is None:
            return Advance(enrollment, changed=False)
        run.note(enrollment.step_id or "", "flow", "paused", "the flow is disabled")
        return Advance(run.paused(), tuple(run.effects))
    outcome = _on_wake(run, wake.activity) if wake is not None else _on_timer(run)
    if outcome is None:
        if resolved.why is None:
            return Advance(enrollment, changed=False)
        outcome = run.unchanged()  # only the version moved
    return Advance(outcome, tuple(run.effects))


def _unpaused(run: Run) -> Enrollment:
    base = run.base
    state = EnrollmentState.WAITING if base.hold is not None else EnrollmentState.ACTIVE
    return base.model_copy(update={"state": state})


def _on_timer(run: Run) -> Enrollment | None:
    base = run.base
    resumed = base.state is EnrollmentState.PAUSED
    if resumed:
        run.base = base = _unpaused(run)
        run.note(base.step_id or "", "flow", "resumed", "the flow is enabled again")
    if base.due_at is not None and run.now < base.due_at:
        return run.unchanged() if resumed else None
    step_id = base.step_id
    if step_id is None:
        return run.finish(EnrollmentState.FAILED, "no_step")
    if not base.entered:
        return run.go(step_id)
    step = run.flow.step(step_id)
    if step is None:
        return run.finish(EnrollmentState.FAILED, f"unknown_step:{step_id}", step_id)
    match base.hold:
        case Hold.WAIT:
            run.note(step.id, step.kind, "waited")
            return run.go(run.next_of(step))
        case Hold.WAIT_FOR if isinstance(step, WaitForStep):
            run.note(
                step.id,
                step.kind,
                "timed_out",
                f"no {step.wait_for.activity} within {format_duration(step.wait_for.within)}",
            )
            return run.go(run.flow.successor(step, step.else_))
        case _:
            return run.go(step_id, resume=base.hold)


def _on_wake(run: Run, activity: Activity) -> Enrollment | None:
    base = run.base
    if base.state is EnrollmentState.PAUSED:
        return None
    exit_when = run.flow.exit_when
    if exit_when is not None and exit_when.tests_activity and run.holds_with(exit_when, activity):
        run.note(
            base.step_id or "",
            "exit_when",
            "exited",
            f"{activity.type} {activity.activity_id}: {describe(exit_when)}",
        )
        return run.finish(EnrollmentState.EXITED, "goal_reached", base.step_id)
    awaiting = base.awaiting
    if base.hold is not Hold.WAIT_FOR or awaiting is None or base.step_id is None:
        return None
    step = run.flow.step(base.step_id)
    if not isinstance(step, WaitForStep):
        return None
    if base.due_at is not None and aware(activity.occurred_at) > base.due_at:
        return _on_timer(run) if run.now >= base.due_at else None  # it came too late: the timeout
    if not matches(awaiting, activity):
        return None
    run.note(step.id, step.kind, "happened", f"{activity.type} {activity.activity_id}")
    return run.go(run.flow.successor(step, step.then))
