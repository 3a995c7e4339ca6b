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


class ActivityView(BaseModel):
    activity_id: str
    type: Annotated[str, Field(description="form_submit, page_view, email_open, ...")]
    occurred_at: datetime
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


class CampaignMembershipView(BaseModel):
    campaign_id: str
    status: str
    responded: bool = False
    source: Annotated[str, Field(description="form, rule, import, manual or connected")]
    joined_at: str


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
    *DOCUMENTED_REPORTS,
)
