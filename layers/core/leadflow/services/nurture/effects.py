"""Carrying out the engine's effects, each once by its ``effect_id``.

Every effect was claimed (``EFFECT#<id>``, ``claimed``) in the transaction that stored the advance
that produced it. Changes to the tables go in one transaction with the claim turning ``done``
(conditional on it not being done), so they happen once however often this runs. Events and email
leave the tables: they are sent, then marked done, with ids a consumer (or SES) deduplicates.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.adapters import event_bus
from leadflow.adapters.event_bus import DomainEvent
from leadflow.domain import processing
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.effects import (
    AddToCrmCampaign,
    AddToList,
    CreateSalesTask,
    Effect,
    Ended,
    SendEmail,
    UpdateContact,
)
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.domain.state import profile_changes, state_of
from leadflow.errors import TemporarilyUnavailable
from leadflow.ids import stable_id
from leadflow.observability import logger, metrics
from leadflow.services import crm_changes, definitions
from leadflow.services.nurture import dates, enrolling, mailer
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo
from leadflow.store import enrollments as enrollments_store
from leadflow.store.dynamo import TransactItem

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.domain.contacts import Contact

_ATTEMPTS = 6


def carry_out(bundle: Bundle, enrollment: Enrollment, effects: list[Effect], now: datetime) -> str | None:
    """Carry out ``effects`` in order, skipping those done before. Returns the reason when an
    email was rejected for good (the caller fails the enrollment), else None."""
    for effect in effects:
        if enrollments_store.effect_done(enrollment.contact_id, effect.effect_id):
            continue
        rejected = _one(bundle, enrollment, effect, now)
        if rejected is not None:
            return rejected
    return None


def _one(bundle: Bundle, enrollment: Enrollment, effect: Effect, now: datetime) -> str | None:
    contact_id = enrollment.contact_id
    match effect:
        case UpdateContact() | AddToList() | AddToCrmCampaign():
            _change_contact(bundle, enrollment, effect, now)
        case CreateSalesTask():
            event_bus.publish(
                [
                    DomainEvent(
                        type="SalesTaskCreated",
                        event_id=stable_id("evt", effect.effect_id, "SalesTaskCreated"),
                        detail={
                            "contact_id": contact_id,
                            "channel": effect.channel,
                            "note": effect.note,
                            "due_at": clock.iso(effect.due_at) if effect.due_at else None,
                            "flow_id": enrollment.flow_id,
                            "enrollment_id": enrollment.enrollment_id,
                            "step_id": effect.step_id,
                            "effect_id": effect.effect_id,
                        },
                    )
                ]
            )
            enrollments_store.mark_done(contact_id, effect.effect_id, now)
            metrics.add_metric(name="SalesTasksCreated", unit="Count", value=1)
        case SendEmail():
            contact = contacts_store.get_contact(contact_id, consistent=True)
            if contact is None:
                enrollments_store.mark_done(contact_id, effect.effect_id, now, result="contact_gone")
                return None
            result = mailer.send_step_email(effect, contact)
            facts = {"result": result.status, "message_id": result.message_id, "rejected": result.rejected}
            enrollments_store.mark_done(
                contact_id, effect.effect_id, now, **{k: v for k, v in facts.items() if v is not None}
            )
            metrics.add_metric(name="StepEmails", unit="Count", value=1)
            return result.rejected
        case Ended():
            enrollments_store.mark_done(contact_id, effect.effect_id, now)
            metrics.add_metric(name="EnrollmentsEnded", unit="Count", value=1)
    return None


def _change_contact(
    bundle: Bundle,
    enrollment: Enrollment,
    effect: UpdateContact | AddToList | AddToCrmCampaign,
    now: datetime,
) -> None:
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        contact = contacts_store.get_contact(enrollment.contact_id, consistent=True)
        done = enrollments_store.mark_done_item(enrollment.contact_id, effect.effect_id, now)
        if contact is None:
            dynamo.transact_write([done])
            return
        items, events, outcome = _contact_items(bundle, enrollment, contact, effect, now)
        started: list[Enrollment] = []
        if outcome is not None:
            # a flow's tags, points or list may start other flows (tag_added, score_reached, ...)
            cause = Activity(
                activity_id=effect.effect_id,
                type="flow_update",
                occurred_at=now,
                contact_id=contact.contact_id,
            )
            flows = processing.flows_to_start(bundle, outcome, cause)
            if flows:
                enroll_items, started = enrolling.enrollment_items(
                    flows, definitions.active().version, contact.contact_id, cause, now
                )
                items += enroll_items
        try:
            dynamo.transact_write([done, *items])
        except dynamo.TransactionCancelled as cancelled:
            if cancelled.failed_at(0):
                return  # done before: a replay after a crash
            logger.info("contact changed during a flow step; retrying", extra={"effect": effect.effect_id})
            continue
        event_bus.publish(event_bus.events_of(effect.effect_id, events))
        enrolling.announce_enrolled(started)
        return
    raise TemporarilyUnavailable(
        f"contact {enrollment.contact_id} changed too often for effect {effect.effect_id}"
    )


def _contact_items(
    bundle: Bundle,
    enrollment: Enrollment,
    contact: Contact,
    effect: UpdateContact | AddToList | AddToCrmCampaign,
    now: datetime,
) -> tuple[list[TransactItem], list[tuple[str, dict[str, object]]], processing.Outcome | None]:
    """The writes of one contact effect, its events, and what it did (for flow triggers)."""
    state = state_of(contact)
    stamp = clock.iso(now)
    match effect:
        case UpdateContact():
            outcome = processing.flow_update(
                bundle,
                state,
                flow_id=enrollment.flow_id,
                effect_id=effect.effect_id,
                at=now,
                score_delta=effect.score_delta,
                add_tags=effect.add_tags,
                remove_tags=effect.remove_tags,
                set_fields=effect.set_fields,
                stage=effect.stage,
            )
            after = outcome.after
            changes = profile_changes(after)
            changes["fields"] = after.fields
            items = [
                contacts_store.profile_update(contact, changes, now),
                *dates.index_items(bundle, contact.contact_id, state.fields, after.fields),
                *[contacts_store.put_ledger_row(contact.contact_id, asdict(row)) for row in outcome.ledger],
                *[
                    campaigns_store.list_membership_put(item, contact.contact_id, source="flow", now=stamp)
                    for item in after.lists - state.lists
                ],
                *[
                    campaigns_store.list_membership_delete(item, contact.contact_id)
                    for item in state.lists - after.lists
                ],
                *crm_changes.membership_items(outcome.crm_memberships, cause_id=effect.effect_id),
            ]
            return items, list(outcome.events), outcome
        case AddToList():
            if effect.list_id in state.lists:
                return [], [], None
            joined = processing.Outcome(before=state, after=state.copy(), lists_joined=[effect.list_id])
            joined.after.lists.add(effect.list_id)
            processing.sync_after(bundle, joined, stamp)  # the MA->CRM rules the list can set off
            after = joined.after
            return (
                [
                    contacts_store.profile_update(contact, profile_changes(after), now),
                    *[
                        campaigns_store.list_membership_put(
                            item,
                            contact.contact_id,
                            source="flow" if item == effect.list_id else "rule",
                            now=stamp,
                        )
                        for item in sorted(after.lists - state.lists)
                    ],
                    *[
                        campaigns_store.list_membership_delete(item, contact.contact_id)
                        for item in sorted(state.lists - after.lists)
                    ],
                    *crm_changes.membership_items(joined.crm_memberships, cause_id=effect.effect_id),
                ],
                list(joined.events),
                joined,
            )
        case AddToCrmCampaign():
            # the same decide and writes as an activity's pass, then the CRM->MA rules it sets off
            outcome = processing.crm_step(
                bundle, state, effect.campaign, effect.status, source="flow", at=stamp
            )
            if not outcome.crm_memberships:
                return [], [], None
            return (
                [
                    contacts_store.profile_update(contact, profile_changes(outcome.after), now),
                    *crm_changes.membership_items(outcome.crm_memberships, cause_id=effect.effect_id),
                    *[
                        campaigns_store.list_membership_put(
                            item, contact.contact_id, source="rule", now=stamp
                        )
                        for item in outcome.lists_joined
                    ],
                    *[
                        campaigns_store.list_membership_delete(item, contact.contact_id)
                        for item in outcome.lists_left
                    ],
                ],
                list(outcome.events),
                outcome,
            )
