"""CRM campaign membership changed from outside the processor: an admin, an import, a CRM connector.

Each change is one transaction: the contact's profile (its ``crm`` statuses, guarded by its
version, so every writer of one contact is serialised), the membership row, its history row,
and a pending ``crm_status_changed`` (or ``crm_member_removed``) activity, the outbox marker
capture uses too. The activity is then sent to the activity queue, and the processor runs what
follows from it exactly once: scoring rules, ``crm_to_ma`` rules, flow triggers and the bus
event. If the send fails, the outbox sweep sends it later.

A ``change_id`` (an import row, a connector's change) makes a change idempotent: the activity id
is derived from it, so a replay writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain import crm_membership
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Contact
from leadflow.domain.crm_membership import (
    CampaignClosed,
    MembershipChange,
    MemberSnapshot,
    Mode,
    NotACrmCampaign,
    UnknownStatus,
)
from leadflow.domain.state import state_of
from leadflow.errors import Conflict, NotFound, TemporarilyUnavailable, ValidationFailed
from leadflow.ids import new_id, stable_id
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo
from leadflow.store.campaigns import Membership

if TYPE_CHECKING:
    from leadflow.definitions.campaigns import Campaign

_ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class MembershipResult:
    membership: Membership
    """The membership as it stands after the call."""
    change: MembershipChange | None
    """What this call changed; ``None`` when there was nothing to do (or it was a replay)."""

    @property
    def created(self) -> bool:
        return self.change is not None and self.change.kind == "added"


def change_membership(
    campaign_id: str,
    contact_id: str,
    status: str | None,
    *,
    source: str,
    mode: Mode,
    change_id: str | None = None,
    known_contact: Contact | None = None,
    origin: Mapping[str, str] | None = None,
) -> MembershipResult:
    """Adds ``contact_id`` to a CRM campaign or changes its status (``None``: the default status).

    ``NotFound`` for an unknown campaign or contact; ``Conflict`` for an MA campaign, or a new member
    of a completed or aborted campaign; ``ValidationFailed`` for a status the campaign lacks.
    ``known_contact``: the contact as the caller has just written it, which saves the first read;
    if another write came between, the profile's version guard fails and the retry reads it.
    ``origin``: where the change was made, kept on its activity (an inbound CRM change: the
    connector, the CRM's member id and its modification time)."""
    campaign = _crm_campaign(campaign_id)
    activity_id = stable_id("act", "crm", change_id) if change_id else new_id("act")
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        contact = known_contact if known_contact is not None and attempt == 0 else _contact(contact_id)
        stored = _membership(campaign_id, contact)
        current = _snapshot(stored, contact)
        at = clock.iso(clock.now())
        try:
            change = crm_membership.decide(
                campaign, contact_id, current, status, mode=mode, source=source, at=at
            )
        except UnknownStatus as unknown:
            raise ValidationFailed.for_fields({"status": str(unknown)}) from None
        except (CampaignClosed, NotACrmCampaign) as refused:
            raise Conflict(str(refused)) from None
        if change is None:
            assert stored is not None  # decide adds a member when there is none
            return MembershipResult(stored, None)
        activity = Activity(
            activity_id=activity_id,
            type="crm_status_changed",
            occurred_at=clock.parse_iso(at),
            contact_id=contact_id,
            properties={
                **(origin or {}),  # first: never in place of what the change itself records
                **crm_membership.change_activity_properties(change),
                **_change_ref(change_id),
            },
        )
        state = state_of(contact)
        crm_membership.record_in(state, change)
        items = [
            contacts_store.profile_update(
                contact,
                {"crm": state.crm_statuses, "crm_responded": sorted(state.crm_responded)},
                clock.parse_iso(at),
            ),
            contacts_store.claim_recorded(activity, clock.parse_iso(at)),
            contacts_store.put_activity(activity),
            *campaigns_store.membership_change_items(change, change_id=activity_id),
        ]
        outcome = _commit(items)
        if outcome == "raced":
            continue
        if outcome == "duplicate":
            return MembershipResult(_reread(campaign_id, contact_id), None)
        _send(activity)
        metrics.add_metric(name="CrmMembershipChanges", unit="Count", value=1)
        return MembershipResult(_after(change, stored), change)
    raise TemporarilyUnavailable(f"contact {contact_id} changed too often; try again")


def remove_membership(
    campaign_id: str, contact_id: str, *, source: str = "manual", change_id: str | None = None
) -> Membership:
    """Ends a CRM campaign membership; its history stays. ``NotFound`` if there is none."""
    _crm_campaign(campaign_id)
    activity_id = stable_id("act", "crm-remove", change_id) if change_id else new_id("act")
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        contact = _contact(contact_id)
        stored = campaigns_store.get_membership(campaign_id, contact_id)
        if stored is None:
            raise NotFound(f"contact {contact_id} is not a member of {campaign_id}")
        at = clock.iso(clock.now())
        activity = Activity(
            activity_id=activity_id,
            type="crm_member_removed",
            occurred_at=clock.parse_iso(at),
            contact_id=contact_id,
            properties={
                "campaign_id": campaign_id,
                "previous_status": stored.status,
                "responded": stored.responded,
                "source": source,
                **_change_ref(change_id),
            },
        )
        state = state_of(contact)
        crm_membership.forget_in(state, campaign_id)
        items = [
            contacts_store.profile_update(contact, {"crm": state.crm_statuses}, clock.parse_iso(at)),
            contacts_store.claim_recorded(activity, clock.parse_iso(at)),
            contacts_store.put_activity(activity),
            *campaigns_store.membership_delete_items(
                stored.snapshot(), change_id=activity_id, source=source, at=at
            ),
        ]
        outcome = _commit(items)
        if outcome == "raced":
            continue
        if outcome == "duplicate":
            return stored
        _send(activity)
        metrics.add_metric(name="CrmMembershipRemovals", unit="Count", value=1)
        return stored
    raise TemporarilyUnavailable(f"contact {contact_id} changed too often; try again")


# ---------------------------------------------------------------- helpers


def _crm_campaign(campaign_id: str) -> Campaign:
    campaign = definitions.active().bundle.campaign(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    if not campaign.is_crm:
        raise Conflict(
            f"{campaign_id} is an MA campaign: people join it by their behaviour (a form, an event), "
            "never by a manual add, an import or a rule"
        )
    return campaign


def _contact(contact_id: str) -> Contact:
    contact = contacts_store.get_contact(contact_id, consistent=True)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    return contact


def _membership(campaign_id: str, contact: Contact) -> Membership | None:
    """The membership row, read only when the profile says there is one: every writer of a CRM
    membership row keeps the profile's ``crm`` statuses in the same transaction (store/campaigns.py),
    so a campaign missing there has no row, and a new member costs no read."""
    if campaign_id not in contact.crm:
        return None
    return campaigns_store.get_membership(campaign_id, contact.contact_id)


def _snapshot(stored: Membership | None, contact: Contact) -> MemberSnapshot | None:
    if stored is None:
        return None
    snapshot = stored.snapshot()
    if stored.campaign_id in contact.crm_responded and not snapshot.ever_responded:
        return dataclasses.replace(snapshot, has_responded=True)
    return snapshot


def _change_ref(change_id: str | None) -> dict[str, str]:
    return {"change_id": change_id} if change_id else {}


def _commit(items: list[dynamo.TransactItem]) -> str:
    """``committed``, ``raced`` (the profile changed since it was read) or ``duplicate`` (the
    change id was claimed before: a replay). Items: profile, claim, activity, then the rest."""
    try:
        dynamo.transact_write(items)
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(1):
            return "duplicate"
        if cancelled.failed_at(0) or cancelled.conflicted:
            return "raced"
        raise
    return "committed"


def _send(activity: Activity) -> None:
    try:
        activity_queue.send(activity)
    except Exception:  # stored and pending: the outbox sweep sends it
        logger.exception(
            "membership activity not enqueued; the sweep will", extra={"activity": activity.activity_id}
        )


def _reread(campaign_id: str, contact_id: str) -> Membership:
    membership = campaigns_store.get_membership(campaign_id, contact_id)
    if membership is None:  # replayed a change whose membership was removed since
        raise NotFound(f"contact {contact_id} is not a member of {campaign_id}")
    return membership


def _after(change: MembershipChange, stored: Membership | None) -> Membership:
    return Membership(
        campaign_id=change.campaign_id,
        contact_id=change.contact_id,
        status=change.status,
        source=stored.source if stored else change.added_by,
        joined_at=stored.joined_at if stored else change.joined_at,
        responded=change.responded,
        responded_at=(stored.responded_at if stored and stored.responded_at else change.responded_at),
        updated_at=change.at,
    )
