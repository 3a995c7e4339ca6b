"""What the runner hands the engine besides the enrollment: the contact, the settings, a wake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from leadflow.domain.nurture.channels import ChannelView
from leadflow.domain.nurture.send_time import Engagement

if TYPE_CHECKING:
    from leadflow.definitions.flows import Flow
    from leadflow.definitions.scoring import Scoring
    from leadflow.domain.activities import Activity
    from leadflow.domain.state import ContactState

TIME_ZONE_FIELD = "time_zone"
"""The contact field holding the contact's IANA time zone, such as Europe/Berlin."""


@dataclass(frozen=True, slots=True)
class NurtureContact:
    """The contact as the engine reads it: state for conditions, engagement for send times,
    channel facts for channel branches. The engine never changes it (it works on a copy)."""

    state: ContactState
    engagement: tuple[Engagement, ...] = ()
    channels: ChannelView = field(default_factory=ChannelView)

    @property
    def time_zone(self) -> str | None:
        zone = self.state.fields.get(TIME_ZONE_FIELD)
        return zone if isinstance(zone, str) else None


@dataclass(frozen=True, slots=True)
class NurtureSettings:
    default_time_zone: str = "UTC"
    """The bundle's ``default_time_zone``."""
    audience_best_hour: int | None = None
    """The audience's most engaged hour of the week (0 = Monday 00:00), for contacts with little history."""
    scoring: Scoring | None = None
    """For ``temperature`` conditions."""
    step_budget: int = 50
    """At most this many steps per advance; the rest continue on the next run, due at once."""
    consent_recheck: timedelta = timedelta(days=1)
    """A send to a contact pending double opt-in is held this long, then tried again."""
    consent_give_up: timedelta = timedelta(days=30)
    """... until the enrollment is this old: then it ends (never_confirmed)."""

    def __post_init__(self) -> None:
        if self.step_budget < 1:
            raise ValueError("step_budget must be at least 1, or no enrollment could move")
        if self.consent_recheck <= timedelta(0):
            raise ValueError("consent_recheck must be positive")
        if self.audience_best_hour is not None and not 0 <= self.audience_best_hour < 168:
            raise ValueError("audience_best_hour is an hour of the week, 0 (Monday 00:00) to 167")


@dataclass(frozen=True, slots=True)
class FlowVersions:
    """The flow as the active bundle has it, and (when they differ) as the enrollment's version had it.

    ``pinned`` may be None when the runner did not load the old version: then the policy decides
    as if it were unavailable."""

    active: Flow | None
    active_version: int
    pinned: Flow | None = None


@dataclass(frozen=True, slots=True)
class Wake:
    """An activity of the contact, delivered to a waiting enrollment (never a scan: by contact)."""

    activity: Activity
