"""Looking contacts up for the admin API: the profile with its campaigns and recent activity."""

from __future__ import annotations

from leadflow.api.models import (
    ActivityView,
    CampaignMembershipView,
    ContactView,
    LedgerEntryView,
    ListMembersView,
    ListMemberView,
    ScoreLedgerView,
)
from leadflow.domain.contacts import Contact
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.domain.temperature import temperature_for
from leadflow.errors import NotFound, ValidationFailed
from leadflow.services import definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store

RECENT_ACTIVITIES = 50
LEDGER_ROWS = 200


def contact_by_email(raw_email: str) -> ContactView:
    try:
        email = normalise_email(raw_email)
    except InvalidEmail as error:
        raise ValidationFailed.for_fields({"email": str(error)}) from None
    contact_id = contacts_store.find_contact_id(email.key)
    if contact_id is None:
        raise NotFound("no contact has that email address")
    return contact_by_id(contact_id)


def contact_by_id(contact_id: str) -> ContactView:
    contact = contacts_store.get_contact(contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    return _view(contact)


def _view(contact: Contact) -> ContactView:
    bundle = definitions.active().bundle
    memberships = campaigns_store.memberships_of(contact.contact_id)
    crm = []
    for membership in memberships:
        campaign = bundle.campaign(membership.campaign_id)
        if campaign is not None and str(campaign.kind) == "ma":
            continue
        crm.append(
            CampaignMembershipView(
                campaign_id=membership.campaign_id,
                status=membership.status,
                responded=membership.responded,
                source=membership.source,
                joined_at=membership.joined_at,
            )
        )
    activities = [
        ActivityView(
            activity_id=activity.activity_id,
            type=activity.type,
            occurred_at=activity.occurred_at,
            properties=activity.properties,
            context=activity.context.model_dump(exclude_none=True),
        )
        for activity in contacts_store.recent_activities(contact.contact_id, RECENT_ACTIVITIES)
    ]
    return ContactView(
        id=contact.contact_id,
        email=contact.email,
        status=str(contact.status),
        fields=contact.fields,
        stage=contact.stage,
        score=contact.score,
        temperature=str(temperature_for(contact.score, bundle.scoring.temperature)),
        tags=contact.tags,
        ma_campaign_id=contact.ma_campaign_id,
        attribution=contact.attribution.model_dump(exclude_none=True),
        crm_campaigns=crm,
        lists=sorted(contact.lists),
        enrollments=[],
        activities=activities,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def score_ledger(contact_id: str) -> ScoreLedgerView:
    contact = contacts_store.get_contact(contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    rows = contacts_store.score_ledger(contact_id, limit=LEDGER_ROWS)
    return ScoreLedgerView(
        contact_id=contact_id,
        score=contact.score,
        entries=[
            LedgerEntryView(
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


def list_members(list_id: str, cursor: str | None, limit: int) -> ListMembersView:
    bundle = definitions.active().bundle
    if bundle.list(list_id) is None:
        raise NotFound(f"no list or segment {list_id!r}")
    try:
        rows, next_cursor = campaigns_store.list_members(list_id, cursor=cursor, limit=limit)
    except ValueError:
        raise ValidationFailed.for_fields({"cursor": "not a cursor this API returned"}) from None
    return ListMembersView(
        list_id=list_id,
        members=[
            ListMemberView(contact_id=row["contact_id"], joined_at=row["joined_at"], source=row["source"])
            for row in rows
        ],
        cursor=next_cursor,
    )
