"""Shapes of the admin API's replies, documented field by field for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field


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


class EnrollmentView(BaseModel):
    flow_id: str
    step: str | None
    state: str
    path: list[str] = Field(default_factory=list)


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
