"""The admin API's replies, built from what the services return (domain objects)."""

from __future__ import annotations

from leadflow.api.models import (
    ActivityView,
    CampaignHistoryView,
    CampaignMembershipView,
    CampaignMembersView,
    CampaignMemberView,
    ConnectorView,
    ContactView,
    CrmSyncView,
    EnrollmentView,
    LedgerEntryView,
    ListMembersView,
    ListMemberView,
    MembershipChangeView,
    MembershipReply,
    PathStepView,
    ScoreLedgerView,
    SyncErrorView,
)
from leadflow.domain.nurture.enrollment import Enrollment
from leadflow.services.campaign_members import HistoryPage, MemberPage, PutOutcome
from leadflow.services.connectors import ConnectorStatus
from leadflow.services.contacts import ContactProfile, ListPage, ScoreLedger
from leadflow.store.campaigns import Membership
from leadflow.store.crm_sync import SyncError, SyncState


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
                campaign_id=item.membership.campaign_id,
                name=item.name,
                kind=item.kind,
                status=item.membership.status,
                responded=item.membership.responded,
                responded_at=item.membership.responded_at,
                source=item.membership.source,
                joined_at=item.membership.joined_at,
                updated_at=item.membership.updated_at,
            )
            for item in profile.crm_campaigns
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
        crm_sync=[crm_sync_view(state) for state in profile.crm_sync],
    )


def _sync_error(error: SyncError | None) -> SyncErrorView | None:
    return SyncErrorView(code=error.code, message=error.message, at=error.at) if error else None


def crm_sync_view(state: SyncState) -> CrmSyncView:
    return CrmSyncView(
        connector_id=state.connector_id,
        state=state.state,
        reason=state.reason,
        external_id=state.external_person_id,
        member_ids={campaign: member.member_id for campaign, member in state.members.items()},
        last_error=_sync_error(state.last_error),
        updated_at=state.updated_at,
    )


def connector_view(status: ConnectorStatus) -> ConnectorView:
    return ConnectorView(
        id=status.connector_id,
        kind=status.kind,
        instance_url=status.instance_url,
        configured=status.configured,
        last_success_at=status.health.last_success_at,
        last_error=_sync_error(status.health.last_error),
        pending=status.pending,
        failed=status.failed,
        dead_letters=status.dead_letters,
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


def _member_view(membership: Membership) -> CampaignMemberView:
    return CampaignMemberView(
        contact_id=membership.contact_id,
        status=membership.status,
        responded=membership.responded,
        responded_at=membership.responded_at,
        source=membership.source,
        joined_at=membership.joined_at,
        updated_at=membership.updated_at,
    )


def campaign_members_view(page: MemberPage) -> CampaignMembersView:
    return CampaignMembersView(
        campaign_id=page.campaign.id,
        kind=str(page.campaign.kind),
        status=page.status,
        members=[_member_view(member) for member in page.members],
        cursor=page.cursor,
    )


def membership_reply(outcome: PutOutcome) -> MembershipReply:
    return MembershipReply(
        campaign_id=outcome.membership.campaign_id,
        **_member_view(outcome.membership).model_dump(),
        created=outcome.created,
        changed=outcome.changed,
    )


def campaign_history_view(page: HistoryPage) -> CampaignHistoryView:
    return CampaignHistoryView(
        campaign_id=page.campaign.id,
        changes=[
            MembershipChangeView(
                contact_id=entry.contact_id,
                from_status=entry.from_status,
                to_status=entry.to_status,
                source=entry.source,
                at=entry.at,
            )
            for entry in page.changes
        ],
        cursor=page.cursor,
    )
