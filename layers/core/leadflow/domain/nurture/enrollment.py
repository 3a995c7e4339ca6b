"""The enrollment: one contact's journey through one flow, as plain data the runner stores.

Everything the engine needs to continue is here, so ``advance`` is a pure function of it: where
the contact is, why it is held there and until when, what it waits for, how often each step was
entered (the visit number that makes each step's effects' ids unique and repeatable), and the
enrolling activity's properties (for keyed waits and for emails that show the cart).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leadflow.ids import stable_id

PATH_LIMIT = 100
"""The path keeps the last this many steps (a monthly loop would otherwise grow it for ever)."""


class EnrollmentState(StrEnum):
    ACTIVE = "active"
    """Due to run now (just enrolled, or the step budget of one run was spent)."""
    WAITING = "waiting"
    """Held at a step until ``due_at`` or the awaited activity."""
    PAUSED = "paused"
    """Its flow is disabled; it continues where it was when the flow is enabled again."""
    COMPLETED = "completed"
    EXITED = "exited"
    """Left early: the goal (``exit_when``) held, or the contact can no longer be reached."""
    FAILED = "failed"


LIVE_STATES = frozenset({EnrollmentState.ACTIVE, EnrollmentState.WAITING, EnrollmentState.PAUSED})


class Hold(StrEnum):
    """Why an entered step has not finished yet."""

    WAIT = "wait"
    WAIT_FOR = "wait_for"
    QUIET_HOURS = "quiet_hours"
    SEND_TIME = "send_time"
    CONSENT = "consent"
    """A send_email step for a contact still pending double opt-in."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Awaiting(Model):
    """What a ``wait_for`` step waits for: an activity of ``activity`` type that matches the rest."""

    step_id: str
    activity: str
    since: datetime
    name: str | None = None
    message: str | None = Field(
        default=None, description="of_step: the effect id of the email the activity must be about"
    )
    message_missing: bool = Field(default=False, description="of_step named an email never sent here")
    properties: dict[str, Any] = Field(default_factory=dict)
    keys: dict[str, Any] = Field(default_factory=dict, description="keyed wait: property -> value")
    missing_keys: list[str] = Field(
        default_factory=list, description="keyed properties the enrolling activity lacked"
    )


class PathEntry(Model):
    """One step run: what happened and why (a branch's condition, a hold's reason)."""

    step_id: str
    kind: str
    at: datetime
    version: int
    outcome: str
    why: str | None = None


class Enrollment(Model):
    enrollment_id: str
    contact_id: str
    flow_id: str
    flow_version: int
    entry: int = Field(description="1 for the first enrollment of this contact in this flow, then 2, ...")
    started_at: datetime
    trigger_activity_id: str | None = None
    trigger: dict[str, Any] = Field(default_factory=dict, description="the enrolling activity's properties")
    state: EnrollmentState = EnrollmentState.ACTIVE
    step_id: str | None = None
    entered: bool = Field(default=False, description="the current step's visit has begun")
    hold: Hold | None = None
    due_at: datetime | None = None
    awaiting: Awaiting | None = None
    visits: dict[str, int] = Field(default_factory=dict, description="step id -> times entered")
    steps_run: int = 0
    revision: int = Field(default=0, description="increases with every change: for conditional writes")
    path: list[PathEntry] = Field(default_factory=list)
    ended_at: datetime | None = None
    end_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def effect_id(self, step_id: str, visit: int | None = None, what: str = "") -> str:
        """The id of a step's effect on one visit: the same on every replay, different on every visit.

        The flow version is left out on purpose: an enrollment moved to a new version at a step
        must not repeat that step's effects under a new id."""
        number = self.visits.get(step_id, 0) if visit is None else visit
        return effect_id(self.enrollment_id, step_id, number, what)


def effect_id(enrollment_id: str, step_id: str, visit: int, what: str = "") -> str:
    """``stable_id(enrollment, step, visit)``: see ``Enrollment.effect_id``."""
    return stable_id("eff", enrollment_id, step_id, str(visit), what)


def enrollment_id(contact_id: str, flow_id: str, entry: int) -> str:
    return stable_id("enr", contact_id, flow_id, str(entry))
