"""Channel recommendation: which channel reaches this contact, from what they answered before.

Per channel, the engagement rate is the number of messages the contact engaged with divided by the
number of messages they received, over the last ``WINDOW`` (six months; Braze Intelligent Channel's
measure). A stated preference (the contact field ``preferred_channel``, whether a form or the CRM
set it) wins; otherwise the channel with the highest rate among those with at least
``MIN_MESSAGES`` messages; otherwise email, the channel a flow uses by default.

Where touches come from: email from ``email_sent`` (received) and human ``email_open`` /
``email_click`` (engaged), matched by ``properties.effect_id`` or ``message_id`` (else the activity id); phone from
custom ``call_logged`` events the CRM connector records, ``properties.connected: true`` when the
contact answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow.definitions.activities import ActivityType
from leadflow.definitions.conditions import Channel
from leadflow.domain.nurture.send_time import is_machine

WINDOW = timedelta(days=182)
MIN_MESSAGES = 3
PREFERENCE_FIELD = "preferred_channel"
CALL_EVENT = "call_logged"


@dataclass(frozen=True, slots=True)
class Touch:
    """A message on a channel: received, or engaged with (answered, opened, clicked)."""

    channel: Channel
    at: datetime
    message: str
    engaged: bool


def touches(activities: Iterable[Any]) -> list[Touch]:
    """The touches among activities (anything with ``activity_id``, ``type``, ``occurred_at``,
    ``properties``)."""
    found: list[Touch] = []
    for activity in activities:
        props = activity.properties
        # the tracker records opens and clicks with the token's message_id (a flow email's effect id)
        message = str(props.get("effect_id") or props.get("message_id") or activity.activity_id)
        if activity.type == ActivityType.EMAIL_SENT:
            if props.get("kind") == "confirmation":
                continue  # the double opt-in email asks for consent: no measure of engagement
            found.append(Touch(Channel.EMAIL, activity.occurred_at, message, engaged=False))
        elif activity.type in (ActivityType.EMAIL_OPEN, ActivityType.EMAIL_CLICK):
            if not is_machine(activity.occurred_at, props):
                found.append(Touch(Channel.EMAIL, activity.occurred_at, message, engaged=True))
        elif activity.type == ActivityType.CUSTOM and props.get("name") == CALL_EVENT:
            found.append(Touch(Channel.PHONE, activity.occurred_at, activity.activity_id, engaged=False))
            if props.get("connected") is True:
                found.append(Touch(Channel.PHONE, activity.occurred_at, activity.activity_id, engaged=True))
    return found


def _preference(fields: dict[str, Any]) -> Channel | None:
    value = fields.get(PREFERENCE_FIELD)
    if isinstance(value, str):
        try:
            return Channel(value.strip().lower())
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class ChannelView:
    """What a branch can test: rates per channel, the stated preference and the recommendation."""

    received: dict[Channel, int] = field(default_factory=dict)
    engaged: dict[Channel, int] = field(default_factory=dict)
    preferred: Channel | None = None

    def rate(self, channel: str) -> float | None:
        """Engaged / received over the window; None when nothing was received on the channel."""
        received = self.received.get(Channel(channel), 0)
        if not received:
            return None
        return min(1.0, self.engaged.get(Channel(channel), 0) / received)

    @property
    def recommended(self) -> str:
        if self.preferred is not None:
            return self.preferred.value
        measured = [channel for channel in Channel if self.received.get(channel, 0) >= MIN_MESSAGES]
        if not measured:
            return Channel.EMAIL.value
        return max(measured, key=lambda channel: (self.rate(channel) or 0.0, channel is Channel.EMAIL)).value


def channel_view(found: Iterable[Touch], fields: dict[str, Any], now: datetime) -> ChannelView:
    """Count distinct messages per channel within ``WINDOW`` before ``now``."""
    received: dict[Channel, set[str]] = {}
    engaged: dict[Channel, set[str]] = {}
    for touch in found:
        if not now - WINDOW <= touch.at <= now:
            continue
        (engaged if touch.engaged else received).setdefault(touch.channel, set()).add(touch.message)
    return ChannelView(
        received={channel: len(ids) for channel, ids in received.items()},
        engaged={channel: len(ids) for channel, ids in engaged.items()},
        preferred=_preference(fields),
    )
