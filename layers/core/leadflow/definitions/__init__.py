"""The definitions language: the models of a bundle, ``parse_bundle`` to validate one, ``load_stored``
to read a stored one back, and ``bundle_diff``.

Importing this package is cheap: pydantic models only. PyYAML is imported when YAML text is
parsed, Jinja2 when templates are checked, so a Lambda that reads stored JSON pays for neither.
"""

from leadflow.definitions.actions import (
    Action,
    AddTagsAction,
    AddToCrmCampaignAction,
    AddToListAction,
    CrmMembership,
    EnrollAction,
    FormAction,
)
from leadflow.definitions.activities import EMAIL_ACTIVITIES, ActivityType
from leadflow.definitions.base import END
from leadflow.definitions.bundle import Bundle
from leadflow.definitions.campaigns import Campaign, CampaignKind, CampaignStatus, MemberStatus
from leadflow.definitions.conditions import Channel, CompareOp, Condition, FieldComparison, RateBound
from leadflow.definitions.diff import GUARDED_SECTIONS, bundle_diff, removals, segments_to_rebuild
from leadflow.definitions.durations import (
    ClockTime,
    Duration,
    TimeZoneName,
    Weekday,
    format_duration,
    parse_duration,
)
from leadflow.definitions.errors import DefinitionsError, Problem
from leadflow.definitions.flows import Flow, OnChange, QuietHours, ReentryAfter, ReentryMode
from leadflow.definitions.forms import FieldType, Form, FormField
from leadflow.definitions.lifecycle import Stage, Temperature
from leadflow.definitions.lists import ContactList, ListKind
from leadflow.definitions.loader import parse_bundle
from leadflow.definitions.scoring import Decay, Qualify, Scoring, ScoringRule, TemperatureBands
from leadflow.definitions.sites import Site
from leadflow.definitions.steps import (
    AddToCrmCampaignStep,
    AddToListStep,
    BranchStep,
    EndStep,
    GotoStep,
    SalesTaskStep,
    SendEmailStep,
    Step,
    StepKind,
    Update,
    UpdateStep,
    WaitBestTime,
    WaitFor,
    WaitForStep,
    WaitStep,
    WaitUntil,
)
from leadflow.definitions.stored import load_stored
from leadflow.definitions.sync import CrmToMaRule, MaToCrmRule, SyncDirection, SyncRule
from leadflow.definitions.templates import EmailTemplate
from leadflow.definitions.triggers import (
    ActivityTrigger,
    CrmMemberStatusTrigger,
    DateField,
    DateFieldTrigger,
    FormSubmittedTrigger,
    ListJoinedTrigger,
    ScoreReachedTrigger,
    TagAddedTrigger,
    Trigger,
    TriggerKind,
)

__all__ = [
    "EMAIL_ACTIVITIES",
    "END",
    "GUARDED_SECTIONS",
    "Action",
    "ActivityTrigger",
    "ActivityType",
    "AddTagsAction",
    "AddToCrmCampaignAction",
    "AddToCrmCampaignStep",
    "AddToListAction",
    "AddToListStep",
    "BranchStep",
    "Bundle",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "Channel",
    "ClockTime",
    "CompareOp",
    "Condition",
    "ContactList",
    "CrmMemberStatusTrigger",
    "CrmMembership",
    "CrmToMaRule",
    "DateField",
    "DateFieldTrigger",
    "Decay",
    "DefinitionsError",
    "Duration",
    "EmailTemplate",
    "EndStep",
    "EnrollAction",
    "FieldComparison",
    "FieldType",
    "Flow",
    "Form",
    "FormAction",
    "FormField",
    "FormSubmittedTrigger",
    "GotoStep",
    "ListJoinedTrigger",
    "ListKind",
    "MaToCrmRule",
    "MemberStatus",
    "OnChange",
    "Problem",
    "Qualify",
    "QuietHours",
    "RateBound",
    "ReentryAfter",
    "ReentryMode",
    "SalesTaskStep",
    "ScoreReachedTrigger",
    "Scoring",
    "ScoringRule",
    "SendEmailStep",
    "Site",
    "Stage",
    "Step",
    "StepKind",
    "SyncDirection",
    "SyncRule",
    "TagAddedTrigger",
    "Temperature",
    "TemperatureBands",
    "TimeZoneName",
    "Trigger",
    "TriggerKind",
    "Update",
    "UpdateStep",
    "WaitBestTime",
    "WaitFor",
    "WaitForStep",
    "WaitStep",
    "WaitUntil",
    "Weekday",
    "bundle_diff",
    "format_duration",
    "load_stored",
    "parse_bundle",
    "parse_duration",
    "removals",
    "segments_to_rebuild",
]
