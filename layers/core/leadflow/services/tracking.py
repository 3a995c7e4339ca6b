"""Tracking: website events from the snippet, and email opens and clicks from signed links.

Nothing here writes to DynamoDB: each accepted event becomes an activity with a deterministic
id and goes straight to the activity queue, where the processor resolves who it belongs to
(anonymous id or email -> contact) and applies it exactly once. So the only durable step is
the enqueue: if it fails the batch answers 503 and the snippet sends it again, and the ids
make that retry harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from leadflow import clock
from leadflow.adapters import activity_queue, secrets
from leadflow.domain import origins, tracking
from leadflow.domain.activities import Activity
from leadflow.domain.tokens import InvalidTokenError, Kind, SigningKeyError, verify
from leadflow.errors import Forbidden, TemporarilyUnavailable, Unauthorized, ValidationFailed
from leadflow.ids import new_id
from leadflow.observability import logger, metrics
from leadflow.services import definitions

_QUEUE_ERRORS = (activity_queue.EnqueueFailed, BotoCoreError, ClientError)


class InvalidLinkError(ValidationFailed):
    """A click link that is not genuine: 400 and never a redirect, so the API is no open redirect."""

    status = 400


@dataclass(frozen=True, slots=True)
class TrackReply:
    """``accepted`` counts the distinct events queued; ``duplicates`` (only when there are some)
    lists events that repeated an earlier one of the same batch and were counted once."""

    accepted: int
    rejected: list[tracking.Rejection]
    duplicates: list[tracking.Duplicate] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "accepted": self.accepted,
            "rejected": [item.as_json() for item in self.rejected],
        }
        if self.duplicates:
            reply["duplicates"] = [item.as_json() for item in self.duplicates]
        return reply


def track(document: dict[str, Any], origin: str | None) -> TrackReply:
    """Validates a batch from ``POST /v1/events`` and enqueues its good events.

    The write key says which site; the browser's Origin must be one that site allows.
    """
    key = tracking.write_key_of(document)
    site = definitions.active().bundle.site_by_write_key(key) if key else None
    if site is None:
        metrics.add_metric(name="TrackingUnauthorized", unit="Count", value=1)
        raise Unauthorized("write_key is missing or belongs to no site")
    if not origins.origin_allowed(site.allowed_origins, origin):
        raise Forbidden(f"origin {origin} may not send events for this site")
    try:
        batch = tracking.clean_batch(document, clock.now())
    except tracking.InvalidBatchError as invalid:
        raise ValidationFailed.for_fields(invalid.errors) from None
    tracked = tracking.activities_for(site.id, batch.events, receipt=new_id("rcpt"))
    activities = tracked.activities
    if activities:
        try:
            activity_queue.send_many(activities)
        except _QUEUE_ERRORS:
            logger.exception(
                "tracking batch not enqueued", extra={"site": site.id, "events": len(activities)}
            )
            metrics.add_metric(name="TrackingEnqueueFailed", unit="Count", value=1)
            raise TemporarilyUnavailable("events could not be queued; send the batch again") from None
    metrics.add_metric(name="TrackedEvents", unit="Count", value=len(activities))
    if batch.rejected:
        metrics.add_metric(name="RejectedEvents", unit="Count", value=len(batch.rejected))
    return TrackReply(len(activities), batch.rejected, tracked.duplicates)


def preflight_allowed(origin: str | None) -> bool:
    """A preflight carries no write key, so it is allowed for an origin that any site allows."""
    if not origin:
        return False
    sites = definitions.active().bundle.sites
    return any(origins.origin_allowed(site.allowed_origins, origin) for site in sites)


def record_open(token: str) -> bool:
    """Records an ``email_open`` for a genuine open token; never raises (the pixel always loads).

    Returns whether an open was recorded, for logs and tests.
    """
    try:
        payload = verify(token, secrets.signing_keys(), Kind.OPEN)
    except InvalidTokenError as invalid:
        logger.info("open pixel with a bad token", extra={"reason": str(invalid)})
        metrics.add_metric(name="InvalidEmailLinks", unit="Count", value=1)
        return False
    except (SigningKeyError, secrets.SigningKeyUnavailableError):
        logger.exception("open not recorded: no signing key")
        metrics.add_metric(name="EmailOpensNotRecorded", unit="Count", value=1)
        return False
    return _enqueue(tracking.email_activity(payload, clock.now()), "EmailOpens")


def record_click(token: str) -> str:
    """Records an ``email_click`` for a genuine click token and returns the URL to redirect to.

    A bad token raises :class:`InvalidLinkError`. A lost click is better than a broken link, so a
    failed enqueue is logged and the visitor is still sent on.
    """
    try:
        payload = verify(token, secrets.signing_keys(), Kind.CLICK)
    except InvalidTokenError as invalid:
        logger.info("click with a bad token", extra={"reason": str(invalid)})
        metrics.add_metric(name="InvalidEmailLinks", unit="Count", value=1)
        raise InvalidLinkError("this link is invalid or was altered") from None
    except (SigningKeyError, secrets.SigningKeyUnavailableError):
        logger.exception("click not verified: no signing key")
        raise TemporarilyUnavailable("this link cannot be checked right now; try again shortly") from None
    assert payload.url is not None  # verify guarantees a checked http(s) URL on click tokens
    _enqueue(tracking.email_activity(payload, clock.now()), "EmailClicks")
    return payload.url


def _enqueue(activity: Activity, metric: str) -> bool:
    try:
        activity_queue.send(activity)
    except _QUEUE_ERRORS:
        logger.exception("email activity not enqueued", extra={"activity": activity.activity_id})
        metrics.add_metric(name=f"{metric}NotRecorded", unit="Count", value=1)
        return False
    metrics.add_metric(name=metric, unit="Count", value=1)
    return True
