"""Shapes of the API's requests and replies, documented field by field for the OpenAPI document.

Admin replies are built from these models (``leadflow.api.views``); the public routes answer
from their services' own replies, which these models describe, and parse their own bodies,
which the request models describe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.report_models import DOCUMENTED_REPORTS

EventType = Literal["page_view", "download", "event_registration", "trial_signup", "custom"]
_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


# ------------------------------------------------------------------ errors
class ErrorDetail(BaseModel):
    code: Annotated[
        str,
        Field(
            description=(
                "validation_failed, not_found, unsupported_media_type, payload_too_large, unauthorized, "
                "forbidden, conflict, temporarily_unavailable or internal"
            )
        ),
    ]
    message: Annotated[str, Field(description="What went wrong, for a person to read")]
    fields: Annotated[
        dict[str, str] | None, Field(description="Per field or bundle path: what is wrong with it")
    ] = None
    request_id: Annotated[str | None, Field(description="With internal errors: quote it when reporting")] = (
        None
    )


class ErrorReply(BaseModel):
    """The one shape of every error the API's functions send."""

    error: ErrorDetail


class GatewayMessage(BaseModel):
    """What API Gateway itself answers when it refuses a request before any function runs
    (an unsigned or wrongly signed admin request in AWS)."""

    message: str


# --------------------------------------------------------------- requests
class SubmissionBody(BaseModel):
    """A form submission sent as JSON."""

    model_config = ConfigDict(extra="forbid")

    fields: Annotated[dict[str, Any], Field(description="The form's fields by name")]
    context: Annotated[
        dict[str, Any] | None,
        Field(
            description="utm_source, utm_medium, utm_campaign, utm_term, utm_content, page_url, referrer, anonymous_id"
        ),
    ] = None
    submission_id: Annotated[
        str | None, Field(description="Makes a replay within 24 h return the first reply")
    ] = None


class TrackedEventBody(BaseModel):
    """One website event; each is judged on its own, so a bad one is rejected, not the batch."""

    type: EventType
    anonymous_id: Annotated[str | None, Field(pattern=_ID_PATTERN)] = None
    email: str | None = None
    url: Annotated[str | None, Field(max_length=2048)] = None
    title: Annotated[str | None, Field(max_length=1024)] = None
    referrer: Annotated[str | None, Field(max_length=2048)] = None
    occurred_at: Annotated[
        datetime | None, Field(description="At most 30 days ago and 5 minutes ahead; default now")
    ] = None
    properties: Annotated[dict[str, Any] | None, Field(description="Up to 8 KiB of JSON")] = None
    event_id: Annotated[str | None, Field(pattern=_ID_PATTERN, description="Makes a resend count once")] = (
        None
    )


class EventBatchBody(BaseModel):
    """The snippet's batch: one site's write key and up to 100 events."""

    model_config = ConfigDict(extra="forbid")

    write_key: Annotated[str, Field(description="The site's public write key (wk_...)")]
    events: Annotated[list[TrackedEventBody], Field(min_length=1, max_length=100)]


# ---------------------------------------------------------- public replies
class SubmissionAccepted(BaseModel):
    submission_id: str
    contact_id: str
    ma_campaign_id: Annotated[str | None, Field(description="The MA campaign the contact is in")]
    ignored_fields: Annotated[list[str], Field(description="Fields the form does not have")]


class RejectedEvent(BaseModel):
    index: Annotated[int, Field(description="The event's position in the batch, from 0")]
    error: str


class EventsAccepted(BaseModel):
    accepted: Annotated[int, Field(description="Events queued for the contact's history")]
    rejected: list[RejectedEvent]


# ----------------------------------------------------------- admin replies


_MEMBER_SOURCE = "Who added the member: manual, import, rule, connected, qualify, flow, form or crm"


class ActivityView(BaseModel):
    activity_id: str
    type: Annotated[str, Field(description="form_submit, page_view, email_open, ...")]
    occurred_at: datetime
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


class CampaignMembershipView(BaseModel):
    """One of the contact's CRM campaign memberships (MA campaigns are ``ma_campaign_id``)."""

    campaign_id: str
    name: Annotated[str | None, Field(description="The campaign's name; null if it left the definitions")]
    kind: Annotated[str | None, Field(description="crm; null if the campaign left the definitions")]
    status: str
    responded: Annotated[bool, Field(description="The current status counts as responded")] = False
    responded_at: Annotated[
        str | None, Field(description="The first time a responded status was reached (set once)")
    ] = None
    source: Annotated[str, Field(description=_MEMBER_SOURCE)]
    joined_at: str
    updated_at: Annotated[str | None, Field(description="The last status change")] = None


class PathStepView(BaseModel):
    step_id: str
    kind: Annotated[
        str, Field(description="the step's kind (send_email, wait_for, ...), or flow, version, exit_when")
    ]
    at: datetime
    version: Annotated[int, Field(description="the flow version the step ran on")]
    outcome: Annotated[
        str, Field(description="sent, held:<why>, waited, happened, timed_out, then, else, moved, ...")
    ]
    why: Annotated[str | None, Field(description="the branch condition, the activity that woke it, ...")] = (
        None
    )


class EnrollmentView(BaseModel):
    enrollment_id: str
    flow_id: str
    version: Annotated[int, Field(description="the flow version (definitions version) it runs on")]
    step: Annotated[str | None, Field(description="the current step")]
    state: Annotated[str, Field(description="active, waiting, paused, completed, exited or failed")]
    hold: Annotated[str | None, Field(description="why a waiting enrollment is held")] = None
    due_at: Annotated[datetime | None, Field(description="when it moves on by itself")] = None
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    path: Annotated[
        list[PathStepView], Field(description="the steps run so far, oldest first (the last 100)")
    ] = Field(default_factory=list)


class SyncErrorView(BaseModel):
    code: Annotated[str, Field(description="the CRM's code (REQUEST_LIMIT_EXCEEDED, NOT_CONFIGURED, ...)")]
    message: str
    at: datetime


class CrmSyncView(BaseModel):
    connector_id: str
    state: Annotated[str, Field(description="synced, pending or failed")]
    reason: Annotated[
        str | None, Field(description="why pending or failed: not_configured, retrying, rejected, ...")
    ] = None
    external_id: Annotated[
        str | None, Field(description="the person's record id in the CRM (Lead or Contact)")
    ]
    member_ids: Annotated[dict[str, str | None], Field(description="campaign id -> the CRM's member id")] = {}
    last_error: SyncErrorView | None = None
    updated_at: datetime | None = None


class ContactView(BaseModel):
    id: Annotated[str, Field(description="The contact id")]
    email: str
    status: Annotated[str, Field(description="pending, subscribed, unsubscribed, bounced or complained")]
    fields: dict[str, Any]
    stage: Annotated[
        str, Field(description="Lifecycle stage: subscriber, lead, mql, sql, opportunity, customer")
    ]
    score: int
    temperature: Annotated[str, Field(description="cold, warm or hot, from the scoring thresholds")]
    tags: list[str]
    ma_campaign_id: Annotated[
        str | None, Field(description="The one MA campaign the person joined by behaviour")
    ]
    attribution: dict[str, Any]
    crm_campaigns: list[CampaignMembershipView]
    lists: list[str]
    enrollments: list[EnrollmentView]
    activities: Annotated[list[ActivityView], Field(description="Newest first")]
    created_at: datetime
    updated_at: datetime
    crm_sync: Annotated[
        list[CrmSyncView], Field(description="per connector: what its CRM holds for this contact")
    ] = []


class ConnectorHealthView(BaseModel):
    last_success_at: datetime | None
    last_error: SyncErrorView | None


class ConnectorView(BaseModel):
    id: str
    kind: Annotated[str, Field(description="salesforce, dynamics or sugarcrm")]
    instance_url: str
    configured: Annotated[bool, Field(description="whether credentials were stored (they are never shown)")]
    last_success_at: datetime | None
    last_error: SyncErrorView | None
    pending: Annotated[int, Field(description="contacts with memberships waiting to be sent")]
    failed: Annotated[int, Field(description="contacts whose last send failed for good (see dead letters)")]
    dead_letters: Annotated[
        int, Field(description="messages in the sync dead-letter queue (every connector)")
    ]


class ReplayView(BaseModel):
    connector_id: str
    replayed: Annotated[int, Field(description="dead letters sent back to the sync queue")]
    other_connectors: Annotated[int, Field(description="dead letters seen that belong to other connectors")]


class DefinitionsApplied(BaseModel):
    version: Annotated[int, Field(description="The active version after this call")]
    previous_version: int
    dry_run: bool
    applied_at: str | None
    diff: Annotated[dict[str, Any], Field(description="Per section: ids added, removed and changed")]
    removals: Annotated[
        dict[str, list[str]],
        Field(
            description="Live campaigns, forms, lists, flows and sites this bundle removes, per kind; "
            "applying them needs allow_removals=true"
        ),
    ] = {}
    simulation: Annotated[
        dict[str, Any] | None,
        Field(description="With simulate=true: contacts whose score, temperature or stage would change"),
    ] = None


class ActiveDefinitionsView(BaseModel):
    version: int
    applied_at: str | None
    bundle: dict[str, Any]


class LedgerEntryView(BaseModel):
    rule_id: Annotated[str, Field(description="The scoring rule that fired, or decay")]
    points: int
    activity_id: str
    activity_type: str
    occurred_at: str
    score_after: Annotated[int, Field(description="The score right after these points")]


class ScoreLedgerView(BaseModel):
    contact_id: str
    score: int
    entries: Annotated[list[LedgerEntryView], Field(description="Newest first: every point explained")]


class ListMemberView(BaseModel):
    contact_id: str
    joined_at: str
    source: Annotated[str, Field(description="rule (segments, actions), import or manual")]


class ListMembersView(BaseModel):
    list_id: str
    members: list[ListMemberView]
    cursor: Annotated[str | None, Field(description="Pass as ?cursor= for the next page; null on the last")]


class MembershipBody(BaseModel):
    """``PUT /v1/admin/campaigns/{id}/members/{contact_id}``: the status to set, or none for the default."""

    model_config = ConfigDict(extra="forbid")

    status: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description="One of the campaign's member statuses; absent or null: a new member gets the "
            "default status and an existing member keeps its own",
        ),
    ] = None


class CampaignMemberView(BaseModel):
    contact_id: str
    status: Annotated[str, Field(description="A member status of the campaign (MA campaigns: joined)")]
    responded: Annotated[bool, Field(description="The current status counts as responded")]
    responded_at: Annotated[
        str | None, Field(description="The first time a responded status was reached (set once)")
    ]
    source: Annotated[str, Field(description=_MEMBER_SOURCE)]
    joined_at: str
    updated_at: Annotated[str | None, Field(description="The last status change; null if never changed")]


class CampaignMembersView(BaseModel):
    campaign_id: str
    kind: Annotated[str, Field(description="crm or ma")]
    status: Annotated[str | None, Field(description="The status this page is filtered by")]
    members: list[CampaignMemberView]
    cursor: Annotated[str | None, Field(description="Pass as ?cursor= for the next page; null on the last")]


class MembershipReply(CampaignMemberView):
    campaign_id: str
    created: Annotated[bool, Field(description="This call added the member")]
    changed: Annotated[bool, Field(description="This call added the member or changed its status")]


class MembershipChangeView(BaseModel):
    """One row of a campaign's membership history (kept when a membership is removed)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    contact_id: str
    from_status: Annotated[
        str | None, Field(alias="from", description="The status before; null when the member was added")
    ]
    to_status: Annotated[
        str | None, Field(alias="to", description="The status after; null when the member was removed")
    ]
    source: Annotated[str, Field(description="Who made the change")]
    at: str


class CampaignHistoryView(BaseModel):
    campaign_id: str
    changes: Annotated[
        list[MembershipChangeView],
        Field(description="Shard by shard, each shard oldest first (a page is not one time order)"),
    ]
    cursor: Annotated[str | None, Field(description="Pass as ?cursor= for the next page; null on the last")]


# ------------------------------------------------------------------ list and Pinpoint files
class ImportAccepted(BaseModel):
    import_id: Annotated[
        str,
        Field(description="Poll GET /v1/admin/imports/{import_id}; the same file again gives the same id"),
    ]


class UploadOffered(BaseModel):
    upload_id: Annotated[
        str, Field(description="Start the import with POST /v1/admin/imports/{upload_id}/start")
    ]
    upload_url: Annotated[
        str, Field(description="PUT the file here (uncompressed CSV; a Pinpoint export may be gzip)")
    ]
    expires_in: Annotated[int, Field(description="Seconds the upload URL stays valid")]


class ImportCountsView(BaseModel):
    rows: Annotated[
        int, Field(description="Rows read (CSV records after the header, or Pinpoint endpoint lines)")
    ]
    created: Annotated[int, Field(description="Contacts created")]
    updated: Annotated[int, Field(description="Contacts whose fields, status or lists changed")]
    unchanged: Annotated[int, Field(description="Contacts the row left as they were")]
    members_added: Annotated[int, Field(description="Members added to the campaign (or the list)")]
    members_changed: Annotated[int, Field(description="Members whose status moved forward")]
    members_unchanged: Annotated[
        int, Field(description="Members already there with that status or a later one")
    ]
    errors: Annotated[int, Field(description="Rows (or lines) not imported, or imported in part")]
    blank: Annotated[int, Field(description="Empty rows, skipped")]
    skipped: Annotated[
        int, Field(description="Pinpoint endpoints of channels Leadflow does not keep (push...)")
    ]
    warnings: Annotated[
        int, Field(description="Values imported with a remark, or left out of an imported row")
    ]


class ImportErrorView(BaseModel):
    row: Annotated[
        int, Field(description="CSV: the row number (the header is row 1); Pinpoint: the line number")
    ]
    column: Annotated[str | None, Field(description="The column (or endpoint key) at fault, if one")] = None
    reason: Annotated[str, Field(description="What is wrong")]
    warning: Annotated[bool, Field(description="True: imported all the same, with this remark")] = False


class ImportView(BaseModel):
    import_id: str
    kind: Annotated[
        Literal["csv", "pinpoint"], Field(description="A CSV into a CRM campaign, or a Pinpoint export")
    ]
    target: Annotated[
        str | None, Field(description="The campaign (CSV) or the static list (Pinpoint), if any")
    ]
    status: Annotated[Literal["running", "completed", "failed"], Field(description="running, then completed")]
    rows_total: Annotated[int | None, Field(description="Rows in the file, once it has been read")] = None
    counts: ImportCountsView
    errors: Annotated[list[ImportErrorView], Field(description="The first errors and warnings, by row")]
    errors_total: Annotated[int, Field(description="Every error and warning, the ones not listed included")]
    failure: Annotated[str | None, Field(description="Why the import failed as a whole")] = None
    created_at: datetime
    finished_at: datetime | None = None


#: Models the routes name by reference (``leadflow.api.contract.ref``): the document's
#: components, added when it is rendered.
class ContactExportView(BaseModel):
    """Everything stored about one contact (GDPR access), as stored, index keys aside."""

    contact_id: str
    exported_at: str
    profile: dict[str, Any]
    records: dict[str, list[dict[str, Any]]] = Field(
        description="the contact's other items by kind: activities, score_ledger, enrollments, flow_effects, ..."
    )
    campaign_memberships: list[dict[str, Any]]
    list_memberships: list[dict[str, Any]]
    membership_history: list[dict[str, Any]]
    visitor_activity: list[dict[str, Any]] = Field(
        description="what the person did as an anonymous visitor before they were identified"
    )


DOCUMENTED: tuple[type[BaseModel], ...] = (
    ErrorReply,
    GatewayMessage,
    SubmissionBody,
    EventBatchBody,
    SubmissionAccepted,
    EventsAccepted,
    ContactView,
    DefinitionsApplied,
    ActiveDefinitionsView,
    ScoreLedgerView,
    ListMembersView,
    ContactExportView,
    MembershipBody,
    CampaignMembersView,
    MembershipReply,
    CampaignHistoryView,
    ConnectorView,
    ReplayView,
    *DOCUMENTED_REPORTS,
    ImportAccepted,
    UploadOffered,
    ImportView,
)
