"""The activity types: the closed vocabulary of things a contact does, and the index key of every rule."""

from __future__ import annotations

from enum import StrEnum


class ActivityType(StrEnum):
    """What happened. Scoring rules, flow triggers and sync rules are indexed by this value."""

    FORM_SUBMIT = "form_submit"
    """A form was submitted; property ``form_id``."""
    PAGE_VIEW = "page_view"
    """A tracked page was viewed; property ``url``."""
    DOWNLOAD = "download"
    """An asset was downloaded; properties ``asset_type``, ``topic``, ``url``."""
    EVENT_REGISTRATION = "event_registration"
    """The contact registered for an event or webinar."""
    TRIAL_SIGNUP = "trial_signup"
    """The contact started a product trial."""
    CUSTOM = "custom"
    """A custom event; property ``name``, such as ``cart_abandoned``."""
    EMAIL_SENT = "email_sent"
    EMAIL_OPEN = "email_open"
    EMAIL_CLICK = "email_click"
    EMAIL_BOUNCED = "email_bounced"
    EMAIL_COMPLAINED = "email_complained"
    UNSUBSCRIBE = "unsubscribe"
    CRM_STATUS_CHANGED = "crm_status_changed"
    """A CRM campaign membership status changed; properties ``crm_campaign``, ``status``."""


EMAIL_ACTIVITIES: frozenset[ActivityType] = frozenset(
    {
        ActivityType.EMAIL_SENT,
        ActivityType.EMAIL_OPEN,
        ActivityType.EMAIL_CLICK,
        ActivityType.EMAIL_BOUNCED,
        ActivityType.EMAIL_COMPLAINED,
    }
)
"""Activities caused by one sent email: the ones a flow's ``wait_for.of_step`` can refer to."""
