"""What a new scoring model would have done to the last 30 days: pure, nothing is written.

For each sampled contact the score before the window is the current score less the points
the ledger records inside it; the window's activities are then replayed through the new
bundle from that baseline. Stages only move forward, so a replay can make an MQL but never
unmake one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leadflow.domain.processing import process, stage_rank
from leadflow.domain.state import ContactState
from leadflow.domain.temperature import temperature_for

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.domain.activities import Activity

EXAMPLES = 10


@dataclass(frozen=True, slots=True)
class ContactChange:
    contact_id: str
    score: tuple[int, int]
    temperature: tuple[str, str]
    stage: tuple[str, str]

    @property
    def changed(self) -> bool:
        return (
            self.score[0] != self.score[1]
            or self.temperature[0] != self.temperature[1]
            or self.stage[0] != self.stage[1]
        )


def replay(
    new: Bundle, current: ContactState, activities: list[Activity], ledger_points: int
) -> ContactChange:
    """The contact as it is now, against what the new bundle would have made of the window."""
    baseline = current.copy()
    baseline.score = current.score - ledger_points
    baseline.rule_days = {}
    baseline.qualified_at = None
    baseline.stage = (
        current.stage
        if stage_rank(current.stage) < stage_rank("mql") or current.qualified_at is None
        else "lead"
    )
    state = baseline
    for activity in sorted(activities, key=lambda item: item.occurred_at):
        state = process(new, state, activity).after
    stage = state.stage if stage_rank(state.stage) > stage_rank(current.stage) else current.stage
    bands = new.scoring.temperature
    return ContactChange(
        contact_id=current.contact_id,
        score=(current.score, state.score),
        temperature=(temperature_for(current.score, bands), temperature_for(state.score, bands)),
        stage=(current.stage, stage),
    )


@dataclass
class SimulationReport:
    window_days: int
    contacts_sampled: int
    sample_is_complete: bool
    activities_replayed: int = 0
    score_changed: int = 0
    temperature_changed: int = 0
    stage_changed: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, change: ContactChange, activities: int) -> None:
        self.activities_replayed += activities
        self.score_changed += change.score[0] != change.score[1]
        self.temperature_changed += change.temperature[0] != change.temperature[1]
        self.stage_changed += change.stage[0] != change.stage[1]
        if change.changed and len(self.examples) < EXAMPLES:
            self.examples.append(
                {
                    "contact_id": change.contact_id,
                    "score": {"now": change.score[0], "would_be": change.score[1]},
                    "temperature": {"now": change.temperature[0], "would_be": change.temperature[1]},
                    "stage": {"now": change.stage[0], "would_be": change.stage[1]},
                }
            )

    def as_json(self) -> dict[str, Any]:
        return {
            "window_days": self.window_days,
            "contacts_sampled": self.contacts_sampled,
            "sample_is_complete": self.sample_is_complete,
            "activities_replayed": self.activities_replayed,
            "would_change": {
                "score": self.score_changed,
                "temperature": self.temperature_changed,
                "stage": self.stage_changed,
            },
            "examples": self.examples,
        }
