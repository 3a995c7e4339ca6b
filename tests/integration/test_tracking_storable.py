"""The property of issue 11 for real: whatever the tracking validator accepts, DynamoDB (moto) keeps.

The unit property test (tests/unit/test_storable.py) serialises; this one writes each accepted
event through the store's own item builders into the Contacts table and reads it back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings

from leadflow.domain import storable, tracking
from leadflow.domain.activities import Activity
from leadflow.domain.tracking import InvalidEventError, clean_event
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo
from tests.unit.test_storable import _events

NOW = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)
_visitors = count()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=_events)
def test_every_accepted_event_is_written_to_dynamodb_and_read_back_unchanged(aws, raw):
    try:
        event = clean_event(raw, NOW)
    except InvalidEventError:
        return
    visitor = f"v{next(_visitors)}"
    activity = tracking.activity_for("www", event, "rcpt").model_copy(update={"anonymous_id": visitor})
    # as the processor keeps a visitor's activity before they convert ...
    assert contacts_store.put_anonymous_activity(activity, ttl=timedelta(days=90))
    [kept] = contacts_store.anonymous_activities(visitor)
    assert _comparable(kept) == _comparable(activity)
    # ... and as capture and the processor write it on a contact's history
    on_contact = activity.model_copy(update={"contact_id": f"c_{visitor}"})
    dynamo.transact_write([contacts_store.put_activity(on_contact)])
    [history] = contacts_store.recent_activities(f"c_{visitor}")
    assert _comparable(history) == _comparable(on_contact)


def _comparable(activity: Activity) -> Any:
    """The activity as DynamoDB sees it: numbers as decimals. DynamoDB keeps decimal numbers, so a
    float that is integral in decimal comes back an int (6.991338957717247e16 -> 69913389577172470):
    the same number in JSON, though not the same Python float."""
    return storable.storable(activity.model_dump(mode="json", exclude={"anonymous_id", "contact_id"}))
