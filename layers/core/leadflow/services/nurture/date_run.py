"""The daily date-field job (``{"job": "dates"}``, ``rate(1 day)``): enroll each contact whose
date comes round, once a year, found through the month-day index, never a scan.

It enrolls every contact whose start moment (``time`` on the start day, in the contact's zone,
else the bundle's) falls between a day before the run and a day (and two hours) after it
(``dates.window``): each moment is in two runs' windows, so a missed run is caught up by the next,
and the run's time of day does not matter. For each enabled date-field flow it queries the month-days
those start days can come from (``DATE_SHARDS`` queries each), reads each candidate's profile
(the truth: the index only finds), and enrolls through ``enroll`` with a trigger id keyed by the
local start day (``date_trigger_id``): a second run, or a redelivered schedule, is refused as
``same_trigger``, and the flow's re-entry policy decides the rest. An enrollment that starts later
is stored due at its moment, so the minute run picks it up on time (ahead of a run's window, a
contact has no enrollment yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from leadflow import clock
from leadflow.definitions import Bundle
from leadflow.definitions.flows import Flow
from leadflow.definitions.triggers import DateField, DateFieldTrigger
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Contact
from leadflow.domain.nurture import dates
from leadflow.domain.nurture.calendar import zone_of
from leadflow.domain.nurture.engine import Refusal, enroll
from leadflow.domain.nurture.triggers import date_start, date_trigger_id
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.services.nurture.dates import TRIGGER_TYPE
from leadflow.store import contacts as contacts_store
from leadflow.store import date_index
from leadflow.store import enrollments as enrollments_store


@dataclass(frozen=True, slots=True)
class DatesReport:
    queries: int = 0
    candidates: int = 0
    enrolled: int = 0


def run(now: datetime | None = None) -> DatesReport:
    """The daily job: enroll the contacts whose date comes round in the window."""
    moment = now or clock.now()
    active = definitions.active()
    flows = [flow for flow in active.bundle.flows_with_trigger(TRIGGER_TYPE) if flow.enabled]
    start, end = dates.window(moment)
    days = dates.local_days(start, end)
    queries = candidates = enrolled = 0
    for flow in flows:
        spec = _spec(flow)
        month_days = set().union(*(dates.month_days_starting(day, spec.days_before) for day in days))
        found: set[str] = set()
        for month_day in sorted(month_days):
            for shard in range(date_index.DATE_SHARDS):
                queries += 1
                found.update(date_index.contacts_on(spec.field, month_day, shard))
        candidates += len(found)
        for contact_id in sorted(found):
            enrolled += _enroll_one(active.bundle, active.version, flow, contact_id, days, start, end, moment)
    metrics.add_metric(name="DateFieldEnrollments", unit="Count", value=enrolled)
    logger.info("date-field run", extra={"queries": queries, "candidates": candidates, "enrolled": enrolled})
    return DatesReport(queries, candidates, enrolled)


def _enroll_one(
    bundle: Bundle,
    version: int,
    flow: Flow,
    contact_id: str,
    days: list[date],
    start: datetime,
    end: datetime,
    now: datetime,
) -> int:
    contact = contacts_store.get_contact(contact_id, consistent=True)
    if contact is None or str(contact.status) == "erased":
        return 0
    spec = _spec(flow)
    found = _start_in_window(spec, contact, bundle.default_time_zone, days, start, end)
    if found is None:
        return 0  # the index line is for another year's day, or the field changed since
    day, starts_at = found
    trigger = Activity(
        activity_id=date_trigger_id(contact_id, flow.id, day),
        type=TRIGGER_TYPE,
        occurred_at=starts_at,
        contact_id=contact_id,
        properties={"field": spec.field, "date": str(contact.fields.get(spec.field)), "day": day.isoformat()},
    )
    stored = enrollments_store.get(contact_id, flow.id)
    previous = stored.enrollment if stored is not None else None
    decision = enroll(flow, version, contact_id, trigger, now, previous, start_at=starts_at)
    if isinstance(decision, Refusal):
        logger.debug(
            "not enrolled", extra={"flow": flow.id, "contact": contact_id, "reason": decision.reason}
        )
        return 0
    try:
        enrollments_store.save(
            decision,
            previous.revision if previous is not None else None,
            [],
            expected_enrollment_id=previous.enrollment_id if previous is not None else None,
        )
    except enrollments_store.StaleError:
        return 0  # it moved meanwhile: tomorrow's run (the window overlaps) tries again
    return 1


def _spec(flow: Flow) -> DateField:
    assert isinstance(flow.trigger, DateFieldTrigger)  # flows_with_trigger(date_field) gives only these
    return flow.trigger.date_field


def _start_in_window(
    spec: DateField, contact: Contact, default_zone: str, days: list[date], start: datetime, end: datetime
) -> tuple[date, datetime] | None:
    """The local start day and moment of this contact's date in ``[start, end)``, if any."""
    zone_name = contact.fields.get("time_zone")
    zone = zone_of(zone_name if isinstance(zone_name, str) else None, default_zone)
    value = contact.fields.get(spec.field)
    for day in days:
        moment = date_start(spec, value, day, zone)
        if moment is not None and start <= moment < end:
            return day, moment
    return None
