"""Looking contacts up for the admin API: the profile with its campaigns, enrollments and recent activity.

Returns domain objects; the API shapes them into its replies (``leadflow.api.views``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Contact
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.domain.processing import LedgerEntry
from leadflow.domain.temperature import temperature_for
from leadflow.errors import NotFound, ValidationFailed
from leadflow.services import definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import crm_sync as crm_sync_store
from leadflow.store import enrollments as enrollments_store
from leadflow.store.campaigns import Membership
from leadflow.store.crm_sync import SyncState

RECENT_ACTIVITIES = 50
LEDGER_ROWS = 200


@dataclass(frozen=True, slots=True)
class CrmCampaignOf:
    """A contact's CRM membership, with the campaign's name and kind from the active definitions
    (``None`` both when the campaign has since left them)."""

    membership: Membership
    name: str | None
    kind: str | None


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """A contact with what the look-up shows beside it, judged by the active definitions."""

    contact: Contact
    temperature: str
    crm_campaigns: list[CrmCampaignOf]
    activities: list[Activity]  # newest first
    enrollments: list[Enrollment] = field(default_factory=list)  # one per flow
    crm_sync: list[SyncState] = field(default_factory=list)  # one per connector


@dataclass(frozen=True, slots=True)
class ScoreLedger:
    contact_id: str
    score: int
    entries: list[LedgerEntry]  # newest first


@dataclass(frozen=True, slots=True)
class ListMember:
    contact_id: str
    joined_at: str
    source: str


@dataclass(frozen=True, slots=True)
class ListPage:
    list_id: str
    members: list[ListMember]
    cursor: str | None  # None on the last page


def contact_by_email(raw_email: str) -> ContactProfile:
    try:
        email = normalise_email(raw_email)
    except InvalidEmail as error:
        raise ValidationFailed.for_fields({"email": str(error)}) from None
    contact_id = contacts_store.find_contact_id(email.key)
    if contact_id is None:
        raise NotFound("no contact has that email address")
    return contact_by_id(contact_id)


def contact_by_id(contact_id: str) -> ContactProfile:
    contact = contacts_store.get_contact(contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    return _profile(contact)


def _profile(contact: Contact) -> ContactProfile:
    bundle = definitions.active().bundle
    crm = []
    for membership in campaigns_store.memberships_of(contact.contact_id):
        campaign = bundle.campaign(membership.campaign_id)
        if campaign is None:
            if membership.form_id is None:  # MA rows carry the form that joined them (capture)
                crm.append(CrmCampaignOf(membership, None, None))
            continue
        if campaign.is_crm:
            crm.append(CrmCampaignOf(membership, campaign.name, str(campaign.kind)))
    return ContactProfile(
        contact=contact,
        temperature=str(temperature_for(contact.score, bundle.scoring.temperature)),
        crm_campaigns=crm,
        activities=contacts_store.recent_activities(contact.contact_id, RECENT_ACTIVITIES),
        enrollments=[stored.enrollment for stored in enrollments_store.of_contact(contact.contact_id)],
        crm_sync=crm_sync_store.states_of(contact.contact_id) if bundle.connectors else [],
    )


def score_ledger(contact_id: str) -> ScoreLedger:
    contact = contacts_store.get_contact(contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    rows = contacts_store.score_ledger(contact_id, limit=LEDGER_ROWS)
    return ScoreLedger(
        contact_id=contact_id,
        score=contact.score,
        entries=[
            LedgerEntry(
                rule_id=row["rule_id"],
                points=row["points"],
                activity_id=row["activity_id"],
                activity_type=row["activity_type"],
                occurred_at=row["occurred_at"],
                score_after=row["score_after"],
            )
            for row in rows
        ],
    )


def list_members(list_id: str, cursor: str | None, limit: int) -> ListPage:
    bundle = definitions.active().bundle
    if bundle.list(list_id) is None:
        raise NotFound(f"no list or segment {list_id!r}")
    try:
        rows, next_cursor = campaigns_store.list_members(list_id, cursor=cursor, limit=limit)
    except ValueError:
        raise ValidationFailed.for_fields({"cursor": "not a cursor this API returned"}) from None
    return ListPage(
        list_id=list_id,
        members=[
            ListMember(contact_id=row["contact_id"], joined_at=row["joined_at"], source=row["source"])
            for row in rows
        ],
        cursor=next_cursor,
    )
