"""Website tracking events: validating a batch from the snippet and turning each event into an activity.

Pure: the caller passes "now" and the site. Each event is judged on its own, so one bad event
in a batch of fifty never costs the other forty-nine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from leadflow import clock
from leadflow.domain import storable, text
from leadflow.domain.activities import Activity
from leadflow.domain.contacts import Attribution
from leadflow.domain.emails import EmailAddress, InvalidEmail, normalise_email
from leadflow.domain.tokens import Kind, TokenPayload
from leadflow.ids import stable_id

EVENT_TYPES = ("page_view", "download", "event_registration", "trial_signup", "custom")
MAX_EVENTS = 100
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

_BATCH_KEYS = frozenset({"write_key", "events"})
_EVENT_KEYS = frozenset(
    {"type", "anonymous_id", "email", "url", "title", "referrer", "occurred_at", "properties", "event_id"}
)
#: Names the event's own fields fill in on the activity: a property of the same name would be ambiguous.
_RESERVED_PROPERTIES = frozenset({"email", "url", "title", "referrer", "site_id", "event_id"})
_TEXT_LIMITS = {"url": 2048, "referrer": 2048, "title": 1024}
_PROPERTY_TEXT_LIMIT = 255
#: How deep ``properties`` may nest (the object itself is level 1). The activity item keeps them
#: one level down (item -> ``properties``), DynamoDB stops at 32 levels, and a record that embeds an
#: activity (a CRM sync payload, an event) wraps it again: half of DynamoDB's bound leaves room for that.
MAX_PROPERTY_DEPTH = 16
MAX_PROPERTY_NAME = 255


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One valid event. ``timestamped`` says whether the client stated ``occurred_at`` (else it is now);
    ``index`` is its position in the batch, which tells apart events that carry no id and no time."""

    type: str
    occurred_at: datetime
    timestamped: bool
    anonymous_id: str | None = None
    email: EmailAddress | None = None
    url: str | None = None
    title: str | None = None
    referrer: str | None = None
    event_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    index: int = 0


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    error: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "error": self.error}


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An accepted event that is the same event as an earlier one of its batch: counted once."""

    index: int
    duplicate_of: int

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "duplicate_of": self.duplicate_of}


@dataclass(slots=True)
class CleanBatch:
    events: list[TrackingEvent]
    rejected: list[Rejection]


@dataclass(slots=True)
class TrackedBatch:
    """What a batch becomes: one activity per distinct event, and the events that repeated another."""

    activities: list[Activity]
    duplicates: list[Duplicate]


class InvalidBatchError(ValueError):
    """The batch as a whole is unusable (not one event can be judged): a 422 for the request."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


class InvalidEventError(ValueError):
    """One event is refused; the message names each bad field, for the reply's ``rejected`` list."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def write_key_of(document: dict[str, Any]) -> str | None:
    """The batch's write key, or None when there is none to check (the caller answers 401)."""
    key = document.get("write_key")
    return key if isinstance(key, str) and key else None


def clean_batch(document: dict[str, Any], now: datetime) -> CleanBatch:
    """Every event judged on its own; :class:`InvalidBatchError` only when the batch's shape is wrong."""
    unknown = sorted(set(document) - _BATCH_KEYS)
    problems = dict.fromkeys(unknown, "unknown key; a batch has write_key and events")
    raw_events = document.get("events")
    if not isinstance(raw_events, list):
        problems["events"] = "expected a list of events"
    elif not 1 <= len(raw_events) <= MAX_EVENTS:
        problems["events"] = f"expected 1 to {MAX_EVENTS} events, got {len(raw_events)}"
    if problems:
        raise InvalidBatchError(problems)
    assert isinstance(raw_events, list)
    events: list[TrackingEvent] = []
    rejected: list[Rejection] = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(clean_event(raw, now, index=index))
        except InvalidEventError as invalid:
            rejected.append(Rejection(index, str(invalid)))
    return CleanBatch(events, rejected)


def clean_event(raw: Any, now: datetime, *, index: int = 0) -> TrackingEvent:
    """One event, validated field by field; raises :class:`InvalidEventError` listing every problem."""
    if not isinstance(raw, dict):
        raise InvalidEventError({"event": "expected an object"})
    unknown = sorted(str(key) for key in raw if key not in _EVENT_KEYS)
    errors: dict[str, str] = dict.fromkeys(unknown, "unknown key")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        errors["type"] = f"must be one of: {', '.join(EVENT_TYPES)}"
    anonymous_id = _identifier(raw, "anonymous_id", errors)
    event_id = _identifier(raw, "event_id", errors)
    email = _email(raw, errors)
    if anonymous_id is None and email is None and not ({"anonymous_id", "email"} & set(errors)):
        errors["anonymous_id"] = "an event needs anonymous_id or email"
    texts = {name: _text(raw, name, errors) for name in _TEXT_LIMITS}
    if texts["url"] is not None and not _is_web_url(texts["url"]):
        errors["url"] = "must be an absolute http or https URL"
    if kind == "page_view" and texts["url"] is None and "url" not in errors:
        errors["url"] = "a page_view needs the page's url"
    occurred_at = _occurred_at(raw, now, errors)
    properties = _properties(raw, kind, errors)
    if errors:
        raise InvalidEventError(errors)
    assert isinstance(kind, str)
    return TrackingEvent(
        type=kind,
        occurred_at=occurred_at or now,
        timestamped=occurred_at is not None,
        anonymous_id=anonymous_id,
        email=email,
        url=texts["url"],
        title=texts["title"],
        referrer=texts["referrer"],
        event_id=event_id,
        properties=properties,
        index=index,
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _identifier(raw: dict[str, Any], name: str, errors: dict[str, str]) -> str | None:
    value = raw.get(name)
    if _blank(value):
        return None
    if not text.is_identifier(value):
        errors[name] = text.IDENTIFIER_RULE
        return None
    return value


def _email(raw: dict[str, Any], errors: dict[str, str]) -> EmailAddress | None:
    value = raw.get("email")
    if _blank(value):
        return None
    if not isinstance(value, str):
        errors["email"] = "expected text"
        return None
    if problem := text.problem(value):
        errors["email"] = problem
        return None
    try:
        return normalise_email(value)
    except InvalidEmail as error:
        errors["email"] = str(error)
        return None


def _text(raw: dict[str, Any], name: str, errors: dict[str, str]) -> str | None:
    value = raw.get(name)
    if _blank(value):
        return None
    if not isinstance(value, str):
        errors[name] = "expected text"
        return None
    cleaned = value.strip()
    limit = _TEXT_LIMITS[name]
    if len(cleaned) > limit:
        errors[name] = f"at most {limit} characters"
        return None
    if problem := text.problem(cleaned):
        errors[name] = problem
        return None
    return cleaned


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _occurred_at(raw: dict[str, Any], now: datetime, errors: dict[str, str]) -> datetime | None:
    """The client's timestamp, if it sent one; the snippet does not (the server's clock is the truth)."""
    value = raw.get("occurred_at")
    if _blank(value):
        return None
    if not isinstance(value, str) or len(value) > 64:
        errors["occurred_at"] = "expected an ISO 8601 timestamp"
        return None
    try:
        moment = clock.parse_iso(value.strip())
    except ValueError:
        errors["occurred_at"] = "expected an ISO 8601 timestamp"
        return None
    if moment > now + MAX_FUTURE:
        errors["occurred_at"] = "more than 5 minutes in the future"
    elif moment < now - MAX_AGE:
        errors["occurred_at"] = "older than 30 days"
    return moment


def _properties(raw: dict[str, Any], kind: Any, errors: dict[str, str]) -> dict[str, Any]:
    value = raw.get("properties")
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors["properties"] = "expected an object"
        return {}
    try:
        storable.storable(
            value,
            max_depth=MAX_PROPERTY_DEPTH,
            text_rule=_property_text_problem,
            key_rule=_property_name_problem,
        )
    except storable.UnstorableValueError as unstorable:
        errors[f"properties.{unstorable.path}" if unstorable.path else "properties"] = unstorable.reason
        return {}
    document = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    size = len(document.encode("utf-8"))
    if size > MAX_PROPERTIES_BYTES:
        errors["properties"] = f"at most {MAX_PROPERTIES_BYTES // 1024} KiB as JSON, got {size} bytes"
        return {}
    for name in sorted(_RESERVED_PROPERTIES & set(value)):
        errors[f"properties.{name}"] = "reserved; send it as the event's own field"
    if kind == "custom":
        event_name = value.get("name")
        if not isinstance(event_name, str) or not event_name.strip():
            errors["properties.name"] = "a custom event needs a name"
        elif len(event_name) > _PROPERTY_TEXT_LIMIT:
            errors["properties.name"] = f"at most {_PROPERTY_TEXT_LIMIT} characters"
    if kind == "download":
        for name in ("asset_id", "asset_type", "topic"):
            item = value.get(name)
            if item is not None and (not isinstance(item, str) or len(item) > _PROPERTY_TEXT_LIMIT):
                errors[f"properties.{name}"] = f"expected text of at most {_PROPERTY_TEXT_LIMIT} characters"
    return value


def _property_text_problem(value: str) -> str | None:
    return text.problem(value, multiline=True)


def _property_name_problem(name: str) -> str | None:
    if len(name) > MAX_PROPERTY_NAME:
        return f"at most {MAX_PROPERTY_NAME} characters"
    return text.problem(name)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def activity_id(site_id: str, event: TrackingEvent, receipt: str = "") -> str:
    """The same event sent twice gets the same id, so the processor applies it once.

    The time takes part only when it says something: a client-stated ``occurred_at``, or, for
    an event with neither timestamp nor ``event_id``, its arrival: the time, the batch's
    ``receipt`` (unique per request) and its position in the batch. Such an event cannot be told
    apart from a genuine repeat, so each one received counts, three identical ones in one batch
    too. With an ``event_id`` and no timestamp, a retry made later still gets the first attempt's id.
    """
    if event.timestamped:
        moment = clock.iso(event.occurred_at)
    elif event.event_id:
        moment = ""
    else:
        moment = (
            f"{clock.iso(event.occurred_at)}#{receipt}#{event.index}"
            if receipt
            else clock.iso(event.occurred_at)
        )
    return stable_id(
        "act",
        site_id,
        event.anonymous_id or "",
        event.email.key if event.email else "",
        event.type,
        moment,
        event.url or "",
        _canonical(event.properties),
        event.event_id or "",
    )


def attribution(url: str | None, referrer: str | None, anonymous_id: str | None) -> Attribution:
    """Where the event happened: the page, the referrer and the UTM parameters in the page's URL."""
    utm: dict[str, str] = {}
    if url:
        query = parse_qs(urlsplit(url).query)
        for name in UTM_KEYS:
            values = [item.strip() for item in query.get(name, []) if item.strip()]
            if values:
                utm[name] = values[0]
    return Attribution(page_url=url, referrer=referrer, anonymous_id=anonymous_id, **utm)


def activities_for(site_id: str, events: list[TrackingEvent], receipt: str) -> TrackedBatch:
    """One activity per distinct event of a batch. An event whose id repeats an earlier one's
    (the same ``event_id``, or the same stated time and content) is reported, not counted again."""
    seen: dict[str, int] = {}
    activities: list[Activity] = []
    duplicates: list[Duplicate] = []
    for event in events:
        activity = activity_for(site_id, event, receipt)
        first = seen.setdefault(activity.activity_id, event.index)
        if first != event.index:
            duplicates.append(Duplicate(event.index, first))
            continue
        activities.append(activity)
    return TrackedBatch(activities, duplicates)


def activity_for(site_id: str, event: TrackingEvent, receipt: str = "") -> Activity:
    """The activity the processor receives; identity is resolved there (anonymous id or email -> contact)."""
    page = {"url": event.url, "title": event.title, "referrer": event.referrer}
    properties: dict[str, Any] = {
        **event.properties,
        **{name: value for name, value in page.items() if value is not None},
        "site_id": site_id,
    }
    if event.email is not None:
        properties["email"] = event.email.address
    if event.event_id is not None:
        properties["event_id"] = event.event_id
    return Activity(
        activity_id=activity_id(site_id, event, receipt),
        type=event.type,
        occurred_at=event.occurred_at,
        contact_id=None,
        anonymous_id=event.anonymous_id,
        properties=properties,
        context=attribution(event.url, event.referrer, event.anonymous_id),
    )


# ---------------------------------------------------------------- email opens and clicks

_EMAIL_ACTIVITY = {Kind.OPEN: "email_open", Kind.CLICK: "email_click"}


def email_activity(payload: TokenPayload, now: datetime) -> Activity:
    """The ``email_open`` or ``email_click`` a verified link records.

    The id covers the message, the kind, the link (for clicks) and the minute: a mail client
    that fetches the pixel five times while rendering, or a double click, counts once, while an
    open the next day is a new activity.
    """
    kind = _EMAIL_ACTIVITY.get(payload.kind)
    if kind is None:
        raise ValueError(f"a {payload.kind.name.lower()} token records no activity here")
    minute = clock.iso(now.replace(second=0, microsecond=0))
    ids = {"message_id": payload.message_id, "flow_id": payload.flow_id, "step_id": payload.step_id}
    properties: dict[str, Any] = {name: value for name, value in ids.items() if value is not None}
    if payload.url is not None:
        properties["url"] = payload.url
    return Activity(
        activity_id=stable_id("act", payload.kind.value, payload.message_id, payload.url or "", minute),
        type=kind,
        occurred_at=now,
        contact_id=payload.contact_id,
        properties=properties,
    )
