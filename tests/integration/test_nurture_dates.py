"""Date-field triggers on moto: the month-day index follows the contact's fields (processor and flow
updates), the daily job finds the day through it (never a scan) and enrolls once a year at the
time of day in the contact's zone; 29 February, bad dates and re-entry. The clock is set by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadflow import clock
from leadflow.domain.nurture.enrollment import EnrollmentState
from leadflow.settings import get_settings
from leadflow.store import dynamo
from leadflow.store import enrollments as enrollments_store
from tests.integration.test_nurture_runner import _bundle, minute_run, nurture, process_all, steps_all
from tests.support.forms import submitted_contact
from tests.support.mail import ready_to_send, sent_messages

BIRTHDAY = {
    "id": "birthday",
    "trigger": {"date_field": {"field": "start", "time": "09:00"}},
    "reentry": "always",
    "steps": [{"id": "greet", "send_email": {"template": "t1"}}],
}


@pytest.fixture(autouse=True)
def _can_send(aws, monkeypatch) -> None:
    ready_to_send(monkeypatch)


@pytest.fixture
def set_clock():
    installed: list[clock.Clock] = []

    def at(moment: datetime) -> clock.AdjustableClock:
        adjustable = clock.AdjustableClock(speed=1e-9, start=moment)
        installed.append(clock.install(adjustable))
        return adjustable

    yield at
    if installed:
        clock.install(installed[0])


def _dated_bundle(*flows: dict[str, Any]) -> dict[str, Any]:
    bundle = _bundle(*flows)
    form = next(form for form in bundle["forms"] if form["id"] == "webinar-signup")
    form["fields"].append({"name": "time_zone", "type": "text"})
    return bundle


def _subscribe(capture, aws, address: str, **fields: Any) -> str:
    contact_id = submitted_contact(capture, {"email": address, "consent": True, **fields})
    process_all(aws)
    return contact_id


def _index_line(contact_id: str, field: str = "start") -> dict[str, Any] | None:
    item = (
        boto3.client("dynamodb")
        .get_item(
            TableName=get_settings().contacts_table,
            Key={"pk": {"S": f"CONTACT#{contact_id}"}, "sk": {"S": f"DATE#{field}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return dynamo.deserialize(item) if item else None


def dates_run() -> dict[str, Any]:
    return nurture({"job": "dates"})


def test_a_birthday_is_indexed_by_month_day_and_enrolls_once_at_nine_local(
    aws, apply_bundle, capture, set_clock
) -> None:
    set_clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    apply_bundle(_dated_bundle(BIRTHDAY))
    contact_id = _subscribe(capture, aws, "bday@example.com", start="1990-03-05", time_zone="Europe/Berlin")
    line = _index_line(contact_id)
    assert line is not None
    assert line["gsi1pk"].startswith("DATE#start#03-05#")
    assert line["date"] == "1990-03-05"
    # four days ahead: nothing yet
    assert dates_run()["enrolled"] == 0
    # the day before: enrolled ahead of time, due at 09:00 Berlin (08:00 UTC) on the day
    set_clock(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    assert dates_run()["enrolled"] == 1
    stored = enrollments_store.get(contact_id, "birthday")
    assert stored is not None
    assert stored.enrollment.due_at == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    assert dates_run()["enrolled"] == 0  # a second run (or a redelivered schedule) enrolls nobody
    later = set_clock(datetime(2026, 3, 5, 7, 59, tzinfo=UTC))
    assert minute_run()["due"] == 0
    later.advance(timedelta(minutes=2))
    assert minute_run()["due"] == 1
    steps_all(aws)
    assert len(sent_messages()) == 1
    assert enrollments_store.get(contact_id, "birthday").enrollment.state is EnrollmentState.COMPLETED  # type: ignore[union-attr]
    # the catch-up run the next day finds the same day again and does nothing
    set_clock(datetime(2026, 3, 5, 23, 0, tzinfo=UTC))
    assert dates_run()["enrolled"] == 0
    # a year later: enrolled again (reentry: always), once
    set_clock(datetime(2027, 3, 4, 12, 0, tzinfo=UTC))
    assert dates_run()["enrolled"] == 1
    assert dates_run()["enrolled"] == 0
    again = enrollments_store.get(contact_id, "birthday")
    assert again is not None
    assert again.enrollment.entry == 2


def test_reentry_never_starts_a_birthday_flow_only_the_first_year(
    aws, apply_bundle, capture, set_clock
) -> None:
    set_clock(datetime(2026, 6, 9, 12, 0, tzinfo=UTC))
    apply_bundle(_dated_bundle({**BIRTHDAY, "reentry": "never"}))
    contact_id = _subscribe(capture, aws, "once@example.com", start="1985-06-10")
    assert dates_run()["enrolled"] == 1
    later = set_clock(datetime(2026, 6, 10, 9, 1, tzinfo=UTC))
    minute_run()
    steps_all(aws)
    later.advance(timedelta(days=364))
    assert dates_run()["enrolled"] == 0
    assert enrollments_store.get(contact_id, "birthday").enrollment.entry == 1  # type: ignore[union-attr]


def test_a_29_february_birthday_comes_round_on_28_february_in_a_common_year(
    aws, apply_bundle, capture, set_clock
) -> None:
    set_clock(datetime(2027, 2, 27, 12, 0, tzinfo=UTC))
    apply_bundle(_dated_bundle(BIRTHDAY))
    contact_id = _subscribe(capture, aws, "leap@example.com", start="2000-02-29")
    assert _index_line(contact_id)["gsi1pk"].startswith("DATE#start#02-29#")  # type: ignore[index]
    assert dates_run()["enrolled"] == 1
    stored = enrollments_store.get(contact_id, "birthday")
    assert stored is not None
    assert stored.enrollment.due_at == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
    # in a leap year it is the 29th
    set_clock(datetime(2028, 2, 28, 10, 0, tzinfo=UTC))
    minute_run()
    steps_all(aws)
    assert dates_run()["enrolled"] == 1
    assert enrollments_store.get(contact_id, "birthday").enrollment.due_at == datetime(  # type: ignore[union-attr]
        2028, 2, 29, 9, 0, tzinfo=UTC
    )


def test_the_time_of_day_is_in_the_contacts_zone_even_when_that_is_another_utc_day(
    aws, apply_bundle, capture, set_clock
) -> None:
    set_clock(datetime(2026, 8, 9, 0, 0, tzinfo=UTC))
    apply_bundle(_dated_bundle(BIRTHDAY))
    contact_id = _subscribe(
        capture, aws, "kiwi@example.com", start="1970-08-10", time_zone="Pacific/Auckland"
    )
    assert dates_run()["enrolled"] == 1
    # 09:00 on 10 August in Auckland (NZST, UTC+12) is 21:00 UTC on 9 August
    stored = enrollments_store.get(contact_id, "birthday")
    assert stored is not None
    assert stored.enrollment.due_at == datetime(2026, 8, 9, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["not a date", "2024-02-30", "20240101", "1990-13-01", "", "  "])
def test_a_field_that_holds_no_valid_date_gets_no_index_line_and_no_enrollment(
    aws, apply_bundle, capture, set_clock, value: str
) -> None:
    set_clock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    bundle = _dated_bundle({**BIRTHDAY, "trigger": {"date_field": {"field": "ref"}}})
    apply_bundle(bundle)
    contact_id = _subscribe(capture, aws, "odd@example.com", ref=value)
    assert _index_line(contact_id, "ref") is None
    assert dates_run()["enrolled"] == 0
    assert enrollments_store.get(contact_id, "birthday") is None


def test_a_changed_date_moves_the_index_line_and_a_cleared_one_removes_it(
    aws, apply_bundle, capture, set_clock
) -> None:
    set_clock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    apply_bundle(_dated_bundle({**BIRTHDAY, "trigger": {"date_field": {"field": "ref"}}}))
    contact_id = _subscribe(capture, aws, "mover@example.com", ref="1990-05-05")
    assert _index_line(contact_id, "ref")["gsi1pk"].startswith("DATE#ref#05-05#")  # type: ignore[index]
    _subscribe(capture, aws, "mover@example.com", ref="1990-07-07")
    assert _index_line(contact_id, "ref")["gsi1pk"].startswith("DATE#ref#07-07#")  # type: ignore[index]
    _subscribe(capture, aws, "mover@example.com", ref="unknown")
    assert _index_line(contact_id, "ref") is None


def test_a_flow_update_that_sets_the_date_field_indexes_it(aws, apply_bundle, capture, set_clock) -> None:
    set_clock(datetime(2026, 4, 1, 12, 0, tzinfo=UTC))
    setter = {
        "id": "renewal-setter",
        "trigger": {"form_submitted": "webinar-signup"},
        "steps": [{"id": "set", "update": {"fields": {"renewal": "2025-04-02"}}}],
    }
    renewal = {**BIRTHDAY, "id": "renewal", "trigger": {"date_field": {"field": "renewal"}}}
    apply_bundle(_dated_bundle(setter, renewal))
    contact_id = _subscribe(capture, aws, "renew@example.com")
    assert _index_line(contact_id, "renewal") is None
    steps_all(aws)
    assert _index_line(contact_id, "renewal")["gsi1pk"].startswith("DATE#renewal#04-02#")  # type: ignore[index]
    assert dates_run()["enrolled"] == 1


def test_the_daily_run_reads_the_index_only(aws, apply_bundle, capture, set_clock, monkeypatch) -> None:
    """Its cost follows the dates that come round: a fixed number of index queries, plus one
    profile read per contact found; no Scan."""
    from leadflow.store import dynamo as dynamo_module

    set_clock(datetime(2026, 9, 1, 12, 0, tzinfo=UTC))
    apply_bundle(_dated_bundle(BIRTHDAY))
    for index in range(3):
        _subscribe(capture, aws, f"other{index}@example.com", start=f"1990-11-{10 + index}")
    _subscribe(capture, aws, "today@example.com", start="1991-09-02")
    calls: list[str] = []
    real = dynamo_module.client()

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(dynamo_module, "client", lambda: Counting())
    report = nurture({"job": "dates"})
    assert report == {"job": "dates", "enrolled": 1, "candidates": 1}
    assert "scan" not in calls
    assert calls.count("get_item") <= 4  # the bundle cache, the profile, the previous enrollment
