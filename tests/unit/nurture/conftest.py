"""Shared helpers for the engine tests: flows from YAML, contacts, activities, and a driver that
advances an enrollment on a controlled clock (time is an argument; nothing sleeps)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadflow.definitions import Bundle, Flow, parse_bundle
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.effects import Effect
from leadflow.domain.nurture.engine import Advance, Refusal, advance, enroll
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.domain.nurture.inputs import FlowVersions, NurtureContact, NurtureSettings, Wake
from leadflow.domain.state import ContactState

EXAMPLES = Path(__file__).parents[3] / "examples" / "flow-templates"
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC

TEMPLATES = """
email_templates:
  - {id: t1, subject: one, html: "<p>1</p>"}
  - {id: t2, subject: two, html: "<p>2</p>"}
  - {id: t3, subject: three, html: "<p>3</p>"}
"""


def bundle_of(flows_yaml: str, extra: str = "") -> Bundle:
    return parse_bundle("flows:\n" + flows_yaml + TEMPLATES + extra)


def flow_of(flows_yaml: str, extra: str = "") -> Flow:
    return bundle_of(flows_yaml, extra).flows[0]


def contact(**changes: Any) -> NurtureContact:
    engagement = changes.pop("engagement", ())
    channels = changes.pop("channels", None)
    state = ContactState(contact_id=changes.pop("contact_id", "c_1"), **changes)
    if channels is None:
        return NurtureContact(state, tuple(engagement))
    return NurtureContact(state, tuple(engagement), channels)


def activity(type_: str, at: datetime, activity_id: str | None = None, **properties: Any) -> Activity:
    return Activity(
        activity_id=activity_id or f"a_{type_}_{at.timestamp():.0f}_{sorted(properties.items())}",
        type=type_,
        occurred_at=at,
        contact_id="c_1",
        properties=properties,
    )


@dataclass
class Driver:
    """Runs one enrollment the way a runner would: advance when due, deliver wakes, keep effects."""

    flow: Flow
    person: NurtureContact = field(default_factory=contact)
    settings: NurtureSettings = field(default_factory=NurtureSettings)
    version: int = 1
    enrollment: Enrollment | None = None
    effects: list[Effect] = field(default_factory=list)

    def start(self, now: datetime, trigger: Activity | None = None) -> Enrollment:
        result = enroll(self.flow, self.version, self.person.state.contact_id, trigger, now, None)
        assert not isinstance(result, Refusal), result
        self.enrollment = result
        self.step(now)
        return self.enrollment

    def versions(self) -> FlowVersions:
        return FlowVersions(self.flow, self.version)

    def step(self, now: datetime, wake: Activity | None = None) -> Advance:
        assert self.enrollment is not None
        result = advance(
            self.versions(),
            self.enrollment,
            self.person,
            now,
            Wake(wake) if wake is not None else None,
            self.settings,
        )
        self.enrollment = result.enrollment
        self.effects.extend(result.effects)
        return result

    def run_until(self, end: datetime, wakes: Iterable[Activity] = ()) -> Enrollment:
        """Advance at each due time (and each wake, in time order) up to ``end``."""
        pending = sorted(wakes, key=lambda a: a.occurred_at)
        assert self.enrollment is not None
        for _ in range(1000):
            due = self.enrollment.due_at if self.enrollment.live else None
            next_wake = pending[0].occurred_at if pending else None
            if next_wake is not None and (due is None or next_wake < due) and next_wake <= end:
                self.step(next_wake, pending.pop(0))
            elif due is not None and due <= end:
                self.step(due)
            else:
                return self.enrollment
        raise AssertionError("the driver did not settle")

    def kinds(self) -> list[str]:
        return [effect.kind for effect in self.effects]

    def sent(self) -> list[str]:
        return [effect.template for effect in self.effects if effect.kind == "send_email"]  # type: ignore[union-attr]


@pytest.fixture
def monday() -> datetime:
    return MONDAY


def days(n: float) -> timedelta:
    return timedelta(days=n)
