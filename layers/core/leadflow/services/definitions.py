"""Reading and applying the definitions bundle.

Lambdas read the active bundle through a Powertools Parameters provider, so each container
re-reads it at most every ``DEFINITIONS_CACHE_SECONDS`` and parses it once per version. A
stored bundle is read back as already validated (``load_stored``): a refresh neither re-runs
the checks nor imports Jinja2, and a stricter check in a newer release never stops it loading.

Every function imports this module but only the admin function applies, so what only applying
needs (the parser, the bus) is imported where it applies: cold starts stay lean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters.base import BaseProvider

from leadflow import clock
from leadflow.errors import Conflict
from leadflow.ids import stable_id
from leadflow.settings import get_settings
from leadflow.store import campaigns as campaigns_store

if TYPE_CHECKING:
    from leadflow.definitions import Bundle

ACTIVE = "ACTIVE"
_NAMED_PER_KIND = 10


@dataclass(frozen=True, slots=True)
class ActiveDefinitions:
    version: int
    bundle: Bundle
    applied_at: str | None


class DefinitionsProvider(BaseProvider):
    """A Powertools parameter provider whose value is the parsed, active bundle."""

    def _get(self, name: str, **sdk_options: Any) -> ActiveDefinitions:  # type: ignore[override]  # any value caches
        from leadflow.definitions import Bundle, load_stored

        stored = campaigns_store.get_active_definitions()
        if stored is None:
            return ActiveDefinitions(version=0, bundle=Bundle(), applied_at=None)
        return ActiveDefinitions(
            version=stored.version, bundle=load_stored(stored.bundle), applied_at=stored.applied_at
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


class RemovalsNotConfirmed(Conflict):
    """Applying would remove live forms, sites, campaigns, lists or flows, and the caller did not
    say ``allow_removals``: an empty or truncated file must not wipe a running system."""

    def __init__(self, removals: dict[str, list[str]]) -> None:
        self.removals = removals
        super().__init__(
            f"applying this bundle would remove {describe_removals(removals)}; "
            "apply with allow_removals=true to confirm",
            details={"removals": removals},
        )


def describe_removals(removals: dict[str, list[str]]) -> str:
    """``2 forms (a, b) and 1 site (www)``: each kind with its ids, the first few of many."""
    parts = []
    for section, ids in removals.items():
        noun = section if len(ids) != 1 else section.removesuffix("s")
        named = ", ".join(ids[:_NAMED_PER_KIND])
        more = f" and {len(ids) - _NAMED_PER_KIND} more" if len(ids) > _NAMED_PER_KIND else ""
        parts.append(f"{len(ids)} {noun} ({named}{more})")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    version: int
    previous_version: int
    dry_run: bool
    diff: dict[str, Any]
    applied_at: str | None
    bundle: Bundle
    #: per guarded section, the live ids this bundle removes (confirmed, or previewed by a dry run)
    removals: dict[str, list[str]] = field(default_factory=dict)


def apply(
    document: str | bytes,
    *,
    content_type: str | None,
    dry_run: bool,
    applied_by: str | None,
    allow_removals: bool = False,
) -> ApplyResult:
    """Validates a whole bundle and, unless ``dry_run``, stores it as the next active version.

    Raises DefinitionsError listing every problem; RemovalsNotConfirmed if it would remove live
    items and ``allow_removals`` is not set (a dry run reports them instead); Conflict if another
    apply won the race.
    """
    from leadflow.definitions import bundle_diff, load_stored, parse_bundle, removals

    new_bundle = parse_bundle(document, content_type=content_type)
    _refuse_unsendable(new_bundle)
    current = campaigns_store.get_active_definitions(consistent=True)
    old_bundle = load_stored(current.bundle) if current else None
    previous_version = current.version if current else 0
    diff = bundle_diff(old_bundle, new_bundle)
    removed = removals(diff)
    if dry_run:
        return ApplyResult(previous_version, previous_version, True, diff, None, new_bundle, removed)
    if removed and not allow_removals:
        raise RemovalsNotConfirmed(removed)
    stored = campaigns_store.save_definitions(
        new_bundle.to_json_dict(), expected_version=previous_version, applied_by=applied_by, now=clock.now()
    )
    forget_cached()
    _announce(stored.version, old_bundle, new_bundle, diff)
    return ApplyResult(stored.version, previous_version, False, diff, stored.applied_at, new_bundle, removed)


def _refuse_unsendable(bundle: Bundle) -> None:
    """Templates nobody could send (no from, no EMAIL_SENDER) are refused now, not at send time."""
    from leadflow.definitions import DefinitionsError
    from leadflow.domain.nurture.senders import sender_problems

    problems = sender_problems(bundle, get_settings().email_sender)
    if problems:
        raise DefinitionsError(problems)


def _announce(version: int, old: Bundle | None, new: Bundle, diff: dict[str, Any]) -> None:
    """Tells the stack what changed; housekeeping rebuilds the segments named here."""
    from leadflow.adapters import event_bus
    from leadflow.definitions import segments_to_rebuild

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
