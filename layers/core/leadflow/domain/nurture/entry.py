"""Enrolling: may this contact start this flow now? The re-entry policy, and idempotent replays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadflow.definitions.flows import Flow, ReentryAfter, ReentryMode
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.enrollment import Enrollment, enrollment_id


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the contact was not enrolled: ``flow_disabled``, ``same_trigger`` (a replay of the
    activity that enrolled them), ``already_enrolled``, ``reentry_never`` or ``reentry_too_soon``."""

    reason: str


def enroll(
    flow: Flow,
    version: int,
    contact_id: str,
    trigger: Activity | None,
    now: datetime,
    previous: Enrollment | None = None,
    *,
    start_at: datetime | None = None,
) -> Enrollment | Refusal:
    """A new enrollment, due at the first step now (or at ``start_at``: a date field's time of
    day), or the reason there is none.

    ``previous`` is the contact's latest enrollment in this flow (one per contact and flow is
    stored). The enrollment id counts entries, so the same decision always gives the same id."""
    if previous is not None and trigger is not None and previous.trigger_activity_id == trigger.activity_id:
        return Refusal("same_trigger")
    if not flow.enabled:
        return Refusal("flow_disabled")
    if previous is not None:
        if previous.live:
            return Refusal("already_enrolled")
        if flow.reentry is ReentryMode.NEVER:
            return Refusal("reentry_never")
        if isinstance(flow.reentry, ReentryAfter) and now - previous.started_at < flow.reentry.after:
            return Refusal("reentry_too_soon")
    entry = previous.entry + 1 if previous is not None else 1
    return Enrollment(
        enrollment_id=enrollment_id(contact_id, flow.id, entry),
        contact_id=contact_id,
        flow_id=flow.id,
        flow_version=version,
        entry=entry,
        started_at=now,
        trigger_activity_id=trigger.activity_id if trigger is not None else None,
        trigger=dict(trigger.properties) if trigger is not None else {},
        step_id=flow.first_step.id,
        due_at=start_at or now,
    )
