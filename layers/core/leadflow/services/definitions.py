"""Reading and applying the definitions bundle.

Lambdas read the active bundle through a Powertools Parameters provider, so each container
re-reads it at most every ``DEFINITIONS_CACHE_SECONDS`` and parses it once per version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters.base import BaseProvider

from leadflow import clock
from leadflow.settings import get_settings
from leadflow.store import campaigns as campaigns_store

if TYPE_CHECKING:
    from leadflow.definitions import Bundle

ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class ActiveDefinitions:
    version: int
    bundle: Bundle
    applied_at: str | None


class DefinitionsProvider(BaseProvider):
    """A Powertools parameter provider whose value is the parsed, active bundle."""

    def _get(self, name: str, **sdk_options: Any) -> ActiveDefinitions:  # type: ignore[override]  # any value caches
        from leadflow.definitions import Bundle

        stored = campaigns_store.get_active_definitions()
        if stored is None:
            return ActiveDefinitions(version=0, bundle=Bundle(), applied_at=None)
        return ActiveDefinitions(
            version=stored.version, bundle=Bundle.model_validate(stored.bundle), applied_at=stored.applied_at
        )

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, Any]:
        raise NotImplementedError("definitions are read as one bundle")


_provider = DefinitionsProvider()


def active() -> ActiveDefinitions:
    """The active bundle, cached for DEFINITIONS_CACHE_SECONDS."""
    value = _provider.get(ACTIVE, max_age=get_settings().definitions_cache_seconds)
    assert isinstance(value, ActiveDefinitions)
    return value


def forget_cached() -> None:
    _provider.clear_cache()


SIMULATION_WINDOW_DAYS = 30
SIMULATION_SAMPLE = 1000


@dataclass(frozen=True, slots=True)
class ApplyResult:
    version: int
    previous_version: int
    dry_run: bool
    diff: dict[str, Any]
    applied_at: str | None
    simulation: dict[str, Any] | None = None


def apply(
    document: str | bytes,
    *,
    content_type: str | None,
    dry_run: bool,
    applied_by: str | None,
    simulate: bool = False,
) -> ApplyResult:
    """Validates a whole bundle and, unless ``dry_run``, stores it as the next active version.

    Raises DefinitionsError listing every problem, or Conflict if another apply won the race.
    """
    from leadflow.definitions import Bundle, bundle_diff, parse_bundle

    new_bundle = parse_bundle(document, content_type=content_type)
    current = campaigns_store.get_active_definitions(consistent=True)
    old_bundle = Bundle.model_validate(current.bundle) if current else None
    previous_version = current.version if current else 0
    diff = bundle_diff(old_bundle, new_bundle)
    if dry_run or simulate:
        report = simulate_scoring(new_bundle) if simulate else None
        return ApplyResult(previous_version, previous_version, True, diff, None, report)
    stored = campaigns_store.save_definitions(
        new_bundle.to_json_dict(), expected_version=previous_version, applied_by=applied_by, now=clock.now()
    )
    forget_cached()
    _announce(stored.version, old_bundle, new_bundle, diff)
    return ApplyResult(stored.version, previous_version, False, diff, stored.applied_at)


def simulate_scoring(new_bundle: Bundle, *, sample: int = SIMULATION_SAMPLE) -> dict[str, Any]:
    """Replays the last 30 days of up to ``sample`` active contacts through ``new_bundle``."""
    from datetime import timedelta

    from leadflow.domain.simulation import SimulationReport, replay
    from leadflow.services.processor import state_of
    from leadflow.store import contacts as contacts_store

    since = clock.now() - timedelta(days=SIMULATION_WINDOW_DAYS)
    contacts, more = contacts_store.sample_active_contacts(since, sample)
    report = SimulationReport(
        window_days=SIMULATION_WINDOW_DAYS, contacts_sampled=len(contacts), sample_is_complete=not more
    )
    for contact in contacts:
        activities = contacts_store.activities_since(contact.contact_id, since)
        points = sum(int(row["points"]) for row in contacts_store.ledger_since(contact.contact_id, since))
        report.add(replay(new_bundle, state_of(contact), activities, points), len(activities))
    return report.as_json()


def _announce(version: int, old: Bundle | None, new: Bundle, diff: dict[str, Any]) -> None:
    """Tells the stack what changed; housekeeping rebuilds the segments named here."""
    from leadflow.adapters import event_bus
    from leadflow.ids import stable_id
    from leadflow.services.segments import segments_to_rebuild

    detail = {
        "version": version,
        "sections": sorted(diff),
        "rebuild_segments": segments_to_rebuild(old, new, diff),
    }
    event_bus.publish(
        [
            event_bus.DomainEvent(
                type="DefinitionsApplied", event_id=stable_id("evt", "defs", str(version)), detail=detail
            )
        ]
    )
