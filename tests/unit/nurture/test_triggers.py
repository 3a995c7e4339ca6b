"""Which happenings start which flows, date fields included, and the explicit failure of a step."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from leadflow.definitions import DateField
from leadflow.domain.nurture.engine import Refusal, enroll, fail
from leadflow.domain.nurture.enrollment import Enrollment, EnrollmentState
from leadflow.domain.nurture.triggers import Happening, date_start, date_trigger_id, date_value, starts
from leadflow.domain.state import ContactState
from tests.unit.nurture.conftest import MONDAY, Driver, activity, flow_of

STATE = ContactState(contact_id="c_1")
EXTRA = """
forms:
  - {id: signup, fields: [{name: email, type: email, required: true}], allowed_origins: ["https://a.example"]}
lists:
  - {id: vips, kind: static}
campaigns:
  - {id: crm-x, kind: crm, name: X, member_statuses: [{name: Sent, default: true}, {name: Attended}]}
"""


def _flow(trigger: str) -> object:
    return flow_of(
        f"  - id: f\n    trigger: {trigger}\n    steps:\n      - {{id: a, send_email: {{template: t1}}}}\n",
        EXTRA,
    )


@pytest.mark.parametrize(
    ("trigger", "yes", "no"),
    [
        ("{form_submitted: signup}", Happening(form_id="signup"), Happening(form_id="other")),
        (
            "{tag_added: vip}",
            Happening(tags_added=frozenset({"vip", "x"})),
            Happening(tags_added=frozenset({"x"})),
        ),
        (
            "{score_reached: 100}",
            Happening(score_before=90, score_after=100),
            Happening(score_before=100, score_after=120),
        ),
        ("{list_joined: vips}", Happening(lists_joined=frozenset({"vips"})), Happening()),
        (
            "{crm_member_status: {campaign: crm-x, status: Attended}}",
            Happening(crm_changed=frozenset({"crm-x"}), crm_reached=frozenset({("crm-x", "Attended")})),
            Happening(crm_changed=frozenset({"crm-x"}), crm_reached=frozenset({("crm-x", "Sent")})),
        ),
        (
            "{crm_member_status: {campaign: crm-x}}",
            Happening(crm_changed=frozenset({"crm-x"})),
            Happening(crm_changed=frozenset({"crm-y"}), crm_reached=frozenset({("crm-y", "Sent")})),
        ),
        (
            "{activity: {activity: custom, name: cart_abandoned}}",
            Happening(activity=activity("custom", MONDAY, name="cart_abandoned")),
            Happening(activity=activity("custom", MONDAY, name="purchase")),
        ),
        (
            "{date_field: {field: birthday}}",
            None,
            Happening(activity=activity("custom", MONDAY, name="x")),
        ),
    ],
)
def test_each_trigger_kind_decides(trigger: str, yes: Happening | None, no: Happening) -> None:
    flow = _flow(trigger)
    if yes is not None:
        assert starts(flow, yes, STATE)  # type: ignore[arg-type]
    assert not starts(flow, no, STATE)  # type: ignore[arg-type]


def test_a_disabled_flow_starts_on_nothing() -> None:
    flow = flow_of(
        "  - id: f\n    enabled: false\n    trigger: {tag_added: vip}\n    steps:\n      - {id: a, wait: 1d}\n"
    )
    assert not starts(flow, Happening(tags_added=frozenset({"vip"})), STATE)


BERLIN = ZoneInfo("Europe/Berlin")


def test_a_birthday_starts_at_its_time_in_the_contact_zone_on_the_day_only() -> None:
    spec = DateField(field="birthday")
    assert date_start(spec, "1990-03-05", date(2026, 3, 5), BERLIN) == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    assert date_start(spec, "1990-03-05", date(2026, 3, 6), BERLIN) is None
    assert date_start(spec, "not a date", date(2026, 3, 5), BERLIN) is None
    assert date_start(spec, None, date(2026, 3, 5), BERLIN) is None
    leap = date_start(spec, "1992-02-29", date(2027, 2, 28), BERLIN)
    assert leap is not None  # a 29 February birthday comes round on 28 February in common years


def test_days_before_may_cross_new_year_and_one_off_dates_happen_once() -> None:
    early = DateField(field="renewal", days_before=3)
    assert date_start(early, "2000-01-02", date(2026, 12, 30), BERLIN) is not None
    once = DateField(field="renewal", yearly=False, days_before=7)
    assert date_start(once, "2026-06-08", date(2026, 6, 1), BERLIN) is not None
    assert date_start(once, "2026-06-08", date(2027, 6, 1), BERLIN) is None
    assert date_value("2026-06-08T10:00:00Z") == date(2026, 6, 8)


def test_the_daily_run_enrolls_a_birthday_once_per_year() -> None:
    flow = flow_of(
        "  - id: f\n    reentry: always\n    trigger: {date_field: {field: birthday}}\n    steps:\n      - {id: a, send_email: {template: t1}}\n"
    )
    day = date(2026, 3, 5)
    trigger = activity("custom", MONDAY, date_trigger_id("c_1", "f", day))
    at = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    first = enroll(flow, 1, "c_1", trigger, MONDAY, None, start_at=at)
    assert isinstance(first, Enrollment)
    assert first.due_at == at
    done = first.model_copy(update={"state": EnrollmentState.COMPLETED})
    rerun = activity("custom", MONDAY, date_trigger_id("c_1", "f", day))
    assert enroll(flow, 1, "c_1", rerun, MONDAY, done) == Refusal("same_trigger")
    next_year = activity("custom", MONDAY, date_trigger_id("c_1", "f", date(2027, 3, 5)))
    assert isinstance(enroll(flow, 1, "c_1", next_year, MONDAY, done), Enrollment)


def test_fail_ends_the_enrollment_with_the_reason() -> None:
    driver = Driver(
        flow_of(
            "  - id: f\n    trigger: {tag_added: x}\n    steps:\n      - {id: a, send_email: {template: t1}}\n      - {id: w, wait: 1d}\n"
        )
    )
    waiting = driver.start(MONDAY)
    failed = fail(waiting, MONDAY, "ses_rejected: address on the account-level suppression list")
    assert failed.enrollment.state is EnrollmentState.FAILED
    assert failed.enrollment.end_reason == "ses_rejected: address on the account-level suppression list"
    assert [effect.kind for effect in failed.effects] == ["ended"]
    assert not fail(failed.enrollment, MONDAY, "again").changed
