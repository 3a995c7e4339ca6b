"""Simulation before change: the last 30 days of active contacts replayed through a proposed bundle.

Reads contacts and their history, writes nothing; the replay itself is pure (domain/simulation).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from leadflow import clock
from leadflow.domain.simulation import SimulationReport, replay
from leadflow.domain.state import state_of
from leadflow.store import contacts as contacts_store

if TYPE_CHECKING:
    from leadflow.definitions import Bundle

WINDOW_DAYS = 30
SAMPLE = 1000


def simulate_scoring(proposed: Bundle, *, sample: int = SAMPLE) -> dict[str, Any]:
    """Replays the last 30 days of up to ``sample`` active contacts through ``proposed``."""
    since = clock.now() - timedelta(days=WINDOW_DAYS)
    contacts, more = contacts_store.sample_active_contacts(since, sample)
    report = SimulationReport(
        window_days=WINDOW_DAYS, contacts_sampled=len(contacts), sample_is_complete=not more
    )
    for contact in contacts:
        activities = contacts_store.activities_since(contact.contact_id, since)
        points = sum(int(row["points"]) for row in contacts_store.ledger_since(contact.contact_id, since))
        report.add(replay(proposed, state_of(contact), activities, points), len(activities))
    return report.as_json()
