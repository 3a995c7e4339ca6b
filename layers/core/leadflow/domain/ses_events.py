"""SES email events, as the configuration set's EventBridge destination publishes them, and what
each one means for Leadflow: which activity it records, and whether it suppresses the address.

The EventBridge event (``source: aws.ses``) carries SES's event record as its ``detail``:
``eventType`` (Bounce, Complaint, Delivery, Send, Reject, Open, Click, Rendering Failure,
DeliveryDelay, Subscription), the ``mail`` it is about (SES ``messageId``, ``destination``,
``tags``, ``headers``) and one object named after the type (``bounce``, ``complaint``, ...).
Only the fields Leadflow uses are modelled; everything else SES adds is ignored, so a new SES
field never breaks parsing. Pure: no AWS calls here (docs/EMAIL_EVENTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadflow.domain.contacts import SubscriptionStatus
from leadflow.ids import stable_id

SOURCE = "aws.ses"

#: The SES message tags the sender sets (EmailTags of SendEmail), published with every event.
CONTACT_TAG = "leadflow_contact"
FLOW_TAG = "leadflow_flow"
STEP_TAG = "leadflow_step"
MESSAGE_TAG = "leadflow_message"
#: The same ids as MIME headers (the sender's ``X-Leadflow-*``), read when a tag is missing.
_HEADERS = {
    CONTACT_TAG: "x-leadflow-contact-id",
    FLOW_TAG: "x-leadflow-flow-id",
    STEP_TAG: "x-leadflow-step-id",
    MESSAGE_TAG: "x-leadflow-message-id",
}
CONFIGURATION_SET_TAG = "ses:configuration-set"

#: The activity types recorded (definitions.ActivityType values; named here so that this function's
#: cold start does not load the definitions language: tests check they are ActivityType members).
EMAIL_BOUNCED = "email_bounced"
EMAIL_COMPLAINED = "email_complained"
EMAIL_SENT = "email_sent"

_ID = Annotated[str, Field(min_length=1, max_length=256)]


class EventType(StrEnum):
    """Every ``eventType`` SES event publishing can send."""

    BOUNCE = "Bounce"
    COMPLAINT = "Complaint"
    DELIVERY = "Delivery"
    SEND = "Send"
    REJECT = "Reject"
    OPEN = "Open"
    CLICK = "Click"
    RENDERING_FAILURE = "Rendering Failure"
    DELIVERY_DELAY = "DeliveryDelay"
    SUBSCRIPTION = "Subscription"


class _SesModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Header(_SesModel):
    name: str
    value: str


class Mail(_SesModel):
    """The email an event is about."""

    message_id: _ID = Field(alias="messageId")
    timestamp: datetime
    destination: list[str] = Field(default_factory=list, max_length=50)  # SES's limit per message
    tags: dict[str, list[str]] = Field(default_factory=dict)
    headers: list[Header] = Field(default_factory=list)

    def leadflow_id(self, tag: str) -> str | None:
        """A Leadflow id from the message's tags, else from its ``X-Leadflow-*`` header."""
        values = self.tags.get(tag) or []
        if values and values[0]:
            return values[0][:256]
        wanted = _HEADERS[tag]
        for header in self.headers:
            if header.name.lower() == wanted and header.value.strip():
                return header.value.strip()[:256]
        return None


class Recipient(_SesModel):
    email_address: str = Field(alias="emailAddress", min_length=1, max_length=320)


class BounceRecipient(Recipient):
    status: str | None = None
    action: str | None = None


class Bounce(_SesModel):
    bounce_type: Literal["Permanent", "Transient", "Undetermined"] = Field(alias="bounceType")
    bounce_sub_type: str = Field(default="", alias="bounceSubType", max_length=64)
    bounced_recipients: list[BounceRecipient] = Field(alias="bouncedRecipients", min_length=1, max_length=50)
    timestamp: datetime


class Complaint(_SesModel):
    complained_recipients: list[Recipient] = Field(alias="complainedRecipients", min_length=1, max_length=50)
    timestamp: datetime
    feedback_type: str | None = Field(default=None, alias="complaintFeedbackType", max_length=64)


class Delivery(_SesModel):
    recipients: list[Annotated[str, Field(max_length=320)]] = Field(min_length=1, max_length=50)
    timestamp: datetime


class DeliveryDelay(_SesModel):
    delay_type: str = Field(default="", alias="delayType", max_length=64)
    delayed_recipients: list[Recipient] = Field(default_factory=list, alias="delayedRecipients")
    timestamp: datetime


class SesEvent(_SesModel):
    """SES's event record (the EventBridge ``detail``)."""

    event_type: EventType = Field(alias="eventType")
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    delivery: Delivery | None = None
    delivery_delay: DeliveryDelay | None = Field(default=None, alias="deliveryDelay")

    @model_validator(mode="after")
    def _has_its_object(self) -> SesEvent:
        needed = {
            EventType.BOUNCE: self.bounce,
            EventType.COMPLAINT: self.complaint,
            EventType.DELIVERY: self.delivery,
        }
        if self.event_type in needed and needed[self.event_type] is None:
            raise ValueError(f"a {self.event_type} event needs its {self.event_type.lower()} object")
        return self


class SesBusEvent(_SesModel):
    """The EventBridge envelope: ``id`` names the event in logs (never an address)."""

    id: _ID
    source: Literal["aws.ses"]
    detail_type: str = Field(alias="detail-type", max_length=128)
    detail: SesEvent


# ---------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class RecipientEffect:
    """What one event means for one recipient."""

    recipient: str
    activity_id: str
    activity_type: str
    occurred_at: datetime
    properties: dict[str, Any]
    suppress_as: SubscriptionStatus | None = None
    #: A domain event to announce (type, detail), with a stable id derived from the activity.
    announce: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The effects of one SES event; ``ignored`` names why an event kind does nothing."""

    event_type: EventType
    ses_message_id: str
    contact_id: str | None
    effects: list[RecipientEffect] = field(default_factory=list)
    ignored: str | None = None


#: Kinds recorded only in a metric and a log line, with the reason (docs/EMAIL_EVENTS.md).
IGNORED: dict[EventType, str] = {
    EventType.SEND: "the sender records its own sends",
    EventType.OPEN: "opens are tracked by Leadflow's own pixel",
    EventType.CLICK: "clicks are tracked by Leadflow's own redirects",
    EventType.RENDERING_FAILURE: "Leadflow sends raw MIME, never SES templates",
    EventType.DELIVERY_DELAY: "SES is still retrying; a final Bounce or Delivery follows",
    EventType.SUBSCRIPTION: "Leadflow manages subscriptions itself",
    EventType.REJECT: "SES found a virus and did not deliver: the message was at fault, not the address",
}


def activity_id_of(ses_message_id: str, event_type: EventType, recipient: str) -> str:
    """One id per SES message, event kind and recipient: a redelivered event yields the same id."""
    return stable_id("act", "ses", ses_message_id, str(event_type), recipient.strip().lower())


def plan(event: SesEvent) -> Plan:
    """What an SES event does, recipient by recipient (no AWS involved)."""
    mail = event.mail
    contact_id = mail.leadflow_id(CONTACT_TAG)
    if event.event_type in IGNORED:
        return Plan(event.event_type, mail.message_id, contact_id, ignored=IGNORED[event.event_type])
    ids = {
        "ses_message_id": mail.message_id,
        "message_id": mail.leadflow_id(MESSAGE_TAG),
        "effect_id": mail.leadflow_id(MESSAGE_TAG),  # what a flow's wait_for and channels match on
        "flow_id": mail.leadflow_id(FLOW_TAG),
        "step_id": mail.leadflow_id(STEP_TAG),
    }
    ids = {key: value for key, value in ids.items() if value}
    effects: list[RecipientEffect] = []
    if event.event_type == EventType.BOUNCE and event.bounce is not None:
        bounce = event.bounce
        permanent = bounce.bounce_type == "Permanent"
        facts = {"bounce_type": bounce.bounce_type.lower(), "bounce_sub_type": bounce.bounce_sub_type}
        effects = [
            _effect(
                event,
                recipient.email_address,
                EMAIL_BOUNCED,
                bounce.timestamp,
                {**ids, **facts, "permanent": permanent},
                suppress_as=SubscriptionStatus.BOUNCED if permanent else None,
                announce="EmailBounced",
            )
            for recipient in bounce.bounced_recipients
        ]
    elif event.event_type == EventType.COMPLAINT and event.complaint is not None:
        complaint = event.complaint
        extra = {"feedback_type": complaint.feedback_type} if complaint.feedback_type else {}
        effects = [
            _effect(
                event,
                complainer.email_address,
                EMAIL_COMPLAINED,
                complaint.timestamp,
                {**ids, **extra},
                suppress_as=SubscriptionStatus.COMPLAINED,
                announce="EmailComplained",
            )
            for complainer in complaint.complained_recipients
        ]
    elif event.event_type == EventType.DELIVERY and event.delivery is not None:
        effects = [
            _effect(
                event,
                address,
                EMAIL_SENT,
                event.delivery.timestamp,
                {**ids, "delivered": True},
                announce="EmailDelivered",
            )
            for address in event.delivery.recipients
        ]
    return Plan(event.event_type, mail.message_id, contact_id, effects=effects)


def _effect(
    event: SesEvent,
    recipient: str,
    kind: str,
    at: datetime,
    properties: dict[str, Any],
    *,
    suppress_as: SubscriptionStatus | None = None,
    announce: str | None = None,
) -> RecipientEffect:
    return RecipientEffect(
        recipient=recipient,
        activity_id=activity_id_of(event.mail.message_id, event.event_type, recipient),
        activity_type=kind,
        occurred_at=at,
        properties=properties,
        suppress_as=suppress_as,
        announce=announce,
    )


#: A higher rank wins: a complaint outranks a bounce, and both outrank every other status.
_RANK = {SubscriptionStatus.BOUNCED: 1, SubscriptionStatus.COMPLAINED: 2}


def status_after(current: SubscriptionStatus, wanted: SubscriptionStatus) -> SubscriptionStatus | None:
    """The status a suppression leads to, or None when the contact keeps its status.

    Bounced and complained are terminal (a new consent never lifts them), so an unsubscribed or
    pending contact becomes bounced too: otherwise a later re-subscription would mail a dead
    address. A complaint outranks a bounce; nothing downgrades.
    """
    if _RANK.get(current, 0) >= _RANK[wanted]:
        return None
    return wanted
