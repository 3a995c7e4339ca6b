"""The admin API's replies, built from what the services return (domain objects)."""

from __future__ import annotations

from leadflow.api.models import (
    ActivityView,
    CampaignMembershipView,
    ContactView,
    EnrollmentView,
    LedgerEntryView,
    ListMembersView,
    ListMemberView,
    PathStepView,
    ScoreLedgerView,
)
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.services.contacts import ContactProfile, ListPage, ScoreLedger


def contact_view(profile: ContactProfile) -> ContactView:
    contact = profile.contact
    return ContactView(
        id=contact.contact_id,
        email=contact.email,
        status=str(contact.status),
        fields=contact.fields,
        stage=contact.stage,
        score=contact.score,
        temperature=profile.temperature,
        tags=contact.tags,
        ma_campaign_id=contact.ma_campaign_id,
        attribution=contact.attribution.model_dump(exclude_none=True),
        crm_campaigns=[
            CampaignMembershipView(
                campaign_id=membership.campaign_id,
                status=membership.status,
                responded=membership.responded,
                source=membership.source,
                joined_at=membership.joined_at,
            )
            for membership in profile.crm_campaigns
        ],
        lists=sorted(contact.lists),
        enrollments=[enrollment_view(item) for item in profile.enrollments],
        activities=[
            ActivityView(
                activity_id=activity.activity_id,
                type=activity.type,
                occurred_at=activity.occurred_at,
                properties=activity.properties,
                context=activity.context.model_dump(exclude_none=True),
            )
            for activity in profile.activities
        ],
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def enrollment_view(item: Enrollment) -> EnrollmentView:
    return EnrollmentView(
        enrollment_id=item.enrollment_id,
        flow_id=item.flow_id,
        version=item.flow_version,
        step=item.step_id,
        state=item.state.value,
        hold=item.hold.value if item.hold is not None else None,
        due_at=item.due_at,
        started_at=item.started_at,
        ended_at=item.ended_at,
        end_reason=item.end_reason,
        path=[PathStepView.model_validate(entry.model_dump()) for entry in item.path],
    )


def score_ledger_view(ledger: ScoreLedger) -> ScoreLedgerView:
    return ScoreLedgerView(
        contact_id=ledger.contact_id,
        score=ledger.score,
        entries=[
            LedgerEntryView(
                rule_id=entry.rule_id,
                points=entry.points,
                activity_id=entry.activity_id,
                activity_type=entry.activity_type,
                occurred_at=entry.occurred_at,
                score_after=entry.score_after,
            )
            for entry in ledger.entries
        ],
    )


def list_members_view(page: ListPage) -> ListMembersView:
    return ListMembersView(
        list_id=page.list_id,
        members=[
            ListMemberView(contact_id=member.contact_id, joined_at=member.joined_at, source=member.source)
            for member in page.members
        ],
        cursor=page.cursor,
    )
