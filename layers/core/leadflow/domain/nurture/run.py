"""One run of an enrollment: steps execute in order until one holds, the flow ends, or the step
budget is spent. Effects collect in order; the contact is changed on a copy, so a branch after an
``update`` sees the update."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from leadflow.definitions.base import END
from leadflow.definitions.conditions import Condition
from leadflow.definitions.durations import format_duration
from leadflow.definitions.flows import Flow
from leadflow.definitions.lifecycle import Stage
from leadflow.definitions.steps import (
    AddToCrmCampaignStep,
    AddToListStep,
    BranchStep,
    EndStep,
    GotoStep,
    SalesTaskStep,
    SendEmailStep,
    Step,
    UpdateStep,
    WaitForStep,
    WaitStep,
    WaitUntil,
)
from leadflow.domain.activities import Activity
from leadflow.domain.conditions import holds
from leadflow.domain.contacts import SubscriptionStatus
from leadflow.domain.nurture.calendar import after, next_until, quiet_until, zone_of
from leadflow.domain.nurture.effects import (
    AddToCrmCampaign,
    AddToList,
    CreateSalesTask,
    Effect,
    Ended,
    SendEmail,
    UpdateContact,
)
from leadflow.domain.nurture.enrollment import (
    PATH_LIMIT,
    Awaiting,
    Enrollment,
    EnrollmentState,
    Hold,
    PathEntry,
    effect_id,
)
from leadflow.domain.nurture.inputs import NurtureContact, NurtureSettings
from leadflow.domain.nurture.send_time import best_send_time
from leadflow.domain.nurture.wakes import awaiting_for


def _moves_forward(stage: Stage, current: str) -> bool:
    """Stages only move forward; a stored stage the language does not know is passed by any."""
    try:
        return stage > Stage(current)
    except ValueError:
        return True


def describe(condition: Condition) -> str:
    """A condition as compact JSON, for the path's "why"."""
    data = condition.model_dump(mode="json", exclude_none=True, by_alias=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class Run:
    """The mutable working state of one advance; ``Enrollment`` values come out of it."""

    def __init__(
        self,
        flow: Flow,
        version: int,
        enrollment: Enrollment,
        contact: NurtureContact,
        now: datetime,
        settings: NurtureSettings,
    ) -> None:
        self.flow = flow
        self.version = version
        self.base = enrollment
        self.contact = contact
        self.state = contact.state.copy()
        self.now = now
        self.settings = settings
        self.zone = zone_of(contact.time_zone, settings.default_time_zone)
        self.visits = dict(enrollment.visits)
        self.path = list(enrollment.path)
        self.effects: list[Effect] = []
        self.steps = 0

    # ---- bookkeeping

    def note(self, step_id: str, kind: str, outcome: str, why: str | None = None) -> None:
        entry = PathEntry(
            step_id=step_id, kind=kind, at=self.now, version=self.version, outcome=outcome, why=why
        )
        self.path = [*self.path, entry][-PATH_LIMIT:]

    def _id(self, step_id: str, what: str = "") -> str:
        return effect_id(self.base.enrollment_id, step_id, self.visits.get(step_id, 0), what)

    def _enrollment(self, **changes: Any) -> Enrollment:
        return self.base.model_copy(
            update={
                "flow_version": self.version,
                "visits": self.visits,
                "path": self.path,
                "steps_run": self.base.steps_run + self.steps,
                "revision": self.base.revision + 1,
                **changes,
            }
        )

    def hold(
        self, step: Step, hold: Hold, due: datetime, why: str | None = None, awaiting: Awaiting | None = None
    ) -> Enrollment:
        self.note(step.id, step.kind, f"held:{hold}", why)
        return self._enrollment(
            state=EnrollmentState.WAITING,
            step_id=step.id,
            entered=True,
            hold=hold,
            due_at=due,
            awaiting=awaiting,
        )

    def finish(self, state: EnrollmentState, reason: str, step_id: str | None = None) -> Enrollment:
        self.effects.append(
            Ended(
                effect_id=effect_id(self.base.enrollment_id, "", 0, "ended"),
                enrollment_id=self.base.enrollment_id,
                step_id=step_id,
                state=state.value,
                reason=reason,
            )
        )
        return self._enrollment(
            state=state,
            step_id=step_id,
            hold=None,
            due_at=None,
            awaiting=None,
            ended_at=self.now,
            end_reason=reason,
        )

    def out_of_budget(self, step_id: str) -> Enrollment:
        """Stop here and continue at once on the next run: no run is unbounded, none is stuck."""
        self.note(step_id, "budget", "continued", f"{self.settings.step_budget} steps in one run")
        return self._enrollment(
            state=EnrollmentState.ACTIVE,
            step_id=step_id,
            entered=False,
            hold=None,
            due_at=self.now,
            awaiting=None,
        )

    def unchanged(self) -> Enrollment:
        """The enrollment with only the bookkeeping of this run (a version move, a resume)."""
        return self._enrollment()

    def paused(self) -> Enrollment:
        return self._enrollment(state=EnrollmentState.PAUSED)

    def holds(self, condition: Condition) -> bool:
        return holds(condition, self.state, scoring=self.settings.scoring, channels=self.contact.channels)

    def holds_with(self, condition: Condition, activity: Activity) -> bool:
        return holds(
            condition,
            self.state,
            activity=activity,
            scoring=self.settings.scoring,
            channels=self.contact.channels,
        )

    def next_of(self, step: Step) -> str:
        return self.flow.successor(step, getattr(step, "next", None))

    # ---- the loop

    def go(self, step_id: str, resume: Hold | None = None) -> Enrollment:
        """Run from ``step_id``; ``resume`` continues the step's current visit after that hold."""
        while True:
            if step_id == END:
                return self.finish(EnrollmentState.COMPLETED, "completed")
            if self.steps >= self.settings.step_budget:
                return self.out_of_budget(step_id)
            step = self.flow.step(step_id)
            if step is None:
                return self.finish(EnrollmentState.FAILED, f"unknown_step:{step_id}", step_id)
            exit_when = self.flow.exit_when
            if exit_when is not None and self.holds(exit_when):
                self.note(step.id, step.kind, "exited", f"exit_when {describe(exit_when)} held")
                return self.finish(EnrollmentState.EXITED, "goal_reached", step.id)
            if resume is None:
                self.visits[step.id] = self.visits.get(step.id, 0) + 1
            self.steps += 1
            result = self.execute(step, resume)
            resume = None
            if isinstance(result, Enrollment):
                return result
            step_id = result

    def execute(self, step: Step, resume: Hold | None) -> Enrollment | str:
        """Run one step: the id of the step to run next, or the enrollment when it holds or ends."""
        match step:
            case SendEmailStep():
                return self.send_email(step, resume)
            case WaitStep():
                return self.wait(step)
            case WaitForStep():
                return self.wait_for(step)
            case BranchStep(branch=branch):
                held = self.holds(branch.if_)
                target = self.flow.successor(step, branch.then if held else branch.else_)
                self.note(
                    step.id, step.kind, "then" if held else "else", f"if {describe(branch.if_)}: {held}"
                )
                return target
            case UpdateStep():
                return self.update(step)
            case AddToListStep(add_to_list=list_id):
                self.state.lists.add(list_id)
                self.effects.append(self._effect(AddToList, step, list_id=list_id))
                self.note(step.id, step.kind, "added", list_id)
                return self.next_of(step)
            case AddToCrmCampaignStep(add_to_crm_campaign=membership):
                current = self.state.crm_statuses.get(membership.campaign)
                self.state.crm_statuses[membership.campaign] = membership.status or current or ""
                self.effects.append(
                    self._effect(
                        AddToCrmCampaign, step, campaign=membership.campaign, status=membership.status
                    )
                )
                self.note(step.id, step.kind, "added", membership.campaign)
                return self.next_of(step)
            case SalesTaskStep(sales_task=task):
                due = self.now + task.due_in if task.due_in is not None else None
                self.effects.append(
                    self._effect(
                        CreateSalesTask, step, channel=task.channel.value, note=task.note, due_at=due
                    )
                )
                self.note(step.id, step.kind, "created", task.channel.value)
                return self.next_of(step)
            case GotoStep(goto=target):
                self.note(step.id, step.kind, "jumped", target)
                return target
            case EndStep():
                self.note(step.id, step.kind, "ended", step.reason)
                return self.finish(EnrollmentState.COMPLETED, step.reason, step.id)
        raise AssertionError(f"no engine for step kind {step.kind}")  # pragma: no cover

    def _effect(self, model: type[Any], step: Step, **fields: Any) -> Any:
        return model(
            effect_id=self._id(step.id), enrollment_id=self.base.enrollment_id, step_id=step.id, **fields
        )

    # ---- the steps that hold or change the contact

    def send_email(self, step: SendEmailStep, resume: Hold | None) -> Enrollment | str:
        if self.state.status == SubscriptionStatus.PENDING:
            if self.now - self.base.started_at >= self.settings.consent_give_up:
                return self.finish(EnrollmentState.EXITED, "never_confirmed", step.id)
            return self.hold(
                step, Hold.CONSENT, self.now + self.settings.consent_recheck, "pending double opt-in"
            )
        quiet = self.flow.quiet_hours
        if step.send_email.send_time == "best" and resume not in (Hold.SEND_TIME, Hold.QUIET_HOURS):
            best = self.best_time()
            if best > self.now:
                return self.hold(
                    step, Hold.SEND_TIME, best, f"best send time {best.astimezone(self.zone):%a %H:%M}"
                )
        quiet_end = quiet_until(self.now, quiet, self.zone)
        if quiet_end is not None:
            return self.hold(
                step,
                Hold.QUIET_HOURS,
                quiet_end,
                f"quiet hours until {quiet_end.astimezone(self.zone):%H:%M}",
            )
        self.effects.append(
            self._effect(
                SendEmail,
                step,
                template=step.send_email.template,
                send_at=self.now,
                flow_id=self.flow.id,
                flow_version=self.version,
                contact_id=self.base.contact_id,
                trigger=self.base.trigger,
            )
        )
        self.note(step.id, step.kind, "sent", step.send_email.template)
        return self.next_of(step)

    def best_time(self) -> datetime:
        return best_send_time(
            self.now,
            self.contact.engagement,
            self.zone,
            audience_best_hour=self.settings.audience_best_hour,
            quiet=self.flow.quiet_hours,
        )

    def wait(self, step: WaitStep) -> Enrollment | str:
        spec = step.wait
        if isinstance(spec, timedelta):
            due = after(self.now, spec, self.zone)
        elif isinstance(spec, WaitUntil):
            due = next_until(self.now, spec.until.weekday, spec.until.time, self.zone)
        else:
            due = self.best_time()
            if due <= self.now:
                self.note(step.id, step.kind, "passed", "it is the best send time now")
                return self.next_of(step)
        return self.hold(step, Hold.WAIT, due, f"until {due.astimezone(self.zone):%Y-%m-%d %H:%M %Z}")

    def wait_for(self, step: WaitForStep) -> Enrollment:
        current = self.base.model_copy(update={"visits": self.visits})
        awaiting = awaiting_for(step, current, self.now)
        due = after(self.now, step.wait_for.within, self.zone)
        why = f"{awaiting.activity} within {format_duration(step.wait_for.within)}"
        if awaiting.missing_keys:
            why += f"; the enrolling activity lacks {', '.join(awaiting.missing_keys)}: only the timeout can end it"
        if awaiting.message_missing:
            why += (
                f"; step {step.wait_for.of_step} sent nothing in this enrollment: only the timeout can end it"
            )
        return self.hold(step, Hold.WAIT_FOR, due, why, awaiting)

    def update(self, step: UpdateStep) -> str:
        change = step.update
        self.state.score += change.score or 0
        self.state.tags |= set(change.add_tags or ())
        self.state.tags -= set(change.remove_tags or ())
        self.state.fields.update(change.fields or {})
        stage = change.stage
        if stage is not None and _moves_forward(stage, self.state.stage):
            self.state.stage = stage.value
        self.effects.append(
            self._effect(
                UpdateContact,
                step,
                score_delta=change.score or 0,
                add_tags=list(change.add_tags or ()),
                remove_tags=list(change.remove_tags or ()),
                set_fields=dict(change.fields or {}),
                stage=stage.value if stage is not None else None,
            )
        )
        self.note(step.id, step.kind, "updated")
        return self.next_of(step)
