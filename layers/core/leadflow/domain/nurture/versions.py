"""Which version of a flow an enrollment runs on when a new bundle is applied (the ``on_change``).

- The flow is gone from the active bundle: the enrollment ends (``flow_removed``).
- The same version: it runs on it.
- ``move_if_step_exists`` (default): it moves to the new version when its current step exists there
  with the same kind; otherwise it finishes on its own version (never stranded).
- ``keep_version``: it finishes on its own version.
- Its own version is needed but unavailable: it moves when the step exists, else it ends
  (``step_removed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadflow.definitions.flows import Flow, OnChange
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.domain.nurture.inputs import FlowVersions


@dataclass(frozen=True, slots=True)
class Resolved:
    flow: Flow
    version: int
    why: str | None = None


def _step_exists(flow: Flow, old: Flow | None, step_id: str | None) -> bool:
    if step_id is None:
        return True
    new_step = flow.step(step_id)
    if new_step is None:
        return False
    old_step = old.step(step_id) if old is not None else None
    return old_step is None or old_step.kind == new_step.kind


def resolve(versions: FlowVersions, enrollment: Enrollment) -> Resolved | str:
    """The flow and version to run, or the reason the enrollment must end."""
    active = versions.active
    if active is None:
        return "flow_removed"
    if enrollment.flow_version == versions.active_version:
        return Resolved(active, versions.active_version)
    movable = _step_exists(active, versions.pinned, enrollment.step_id)
    if active.on_change is OnChange.MOVE_IF_STEP_EXISTS and movable:
        why = f"moved from version {enrollment.flow_version}: step {enrollment.step_id} exists in the new one"
        return Resolved(active, versions.active_version, why)
    if versions.pinned is not None:
        return Resolved(versions.pinned, enrollment.flow_version)
    if movable:
        why = f"moved from version {enrollment.flow_version}, which is no longer available"
        return Resolved(active, versions.active_version, why)
    return "step_removed"
