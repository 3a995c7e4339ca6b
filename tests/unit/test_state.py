"""The Contact <-> ContactState mapping that processing, decay, segments and simulation share."""

from __future__ import annotations

from datetime import UTC, date, datetime

from leadflow.domain.contacts import Contact, SubscriptionStatus
from leadflow.domain.state import profile_changes, state_of

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def contact(**overrides: object) -> Contact:
    values: dict[str, object] = {
        "contact_id": "c1",
        "email": "ann@example.com",
        "email_key": "ann@example.com",
        "status": SubscriptionStatus.SUBSCRIBED,
        "score": 42,
        "stage": "lead",
        "tags": ["b", "a"],
        "lists": ["hot"],
        "crm": {"crm-1": "Sent"},
        "rule_days": {"open": "2026-03-04:2", "old": "2026-03-01"},
        "qualified_at": NOW,
        "last_activity_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Contact.model_validate({**values, **overrides})


def test_state_of_reads_what_processing_needs() -> None:
    state = state_of(contact())
    assert (state.contact_id, state.score, state.stage, state.status) == ("c1", 42, "lead", "subscribed")
    assert state.tags == {"a", "b"}
    assert state.rule_days == {"open": (date(2026, 3, 4), 2), "old": (date(2026, 3, 1), 0)}
    assert state.fired_today("open", date(2026, 3, 4)) == 2
    assert state.qualified_at == "2026-03-04T05:06:07.000Z"


def test_profile_changes_write_back_what_state_of_reads() -> None:
    before = contact()
    changes = profile_changes(state_of(before))
    assert changes["tags"] == ["a", "b"]
    assert changes["rule_days"] == {"open": "2026-03-04:2", "old": "2026-03-01:0"}
    again = state_of(contact(**{key: value for key, value in changes.items() if value is not None}))
    assert again == state_of(before)
