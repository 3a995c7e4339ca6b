"""Form capture: validate, dedupe and upsert the contact, join the MA campaign, record and enqueue.

Synchronous work is the minimum that must not be lost: one DynamoDB transaction writes the
contact, the activity, the campaign membership and the idempotent reply together, then one
SQS message hands the activity to the processor. If that send fails the activity is still
stored and marked pending, and the outbox sweep enqueues it later: the visitor is not asked
to submit again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain import origins
from leadflow.domain.activities import Activity, ActivityFacts
from leadflow.domain.contacts import (
    Consent,
    Contact,
    initial_status,
    merge_fields,
    status_after_submission,
)
from leadflow.domain.submissions import (
    CleanSubmission,
    InvalidFieldsError,
    clean_idempotency_key,
    clean_submission,
)
from leadflow.errors import Conflict, Forbidden, NotFound, TemporarilyUnavailable, ValidationFailed
from leadflow.ids import new_id, stable_id
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import dynamo

if TYPE_CHECKING:
    from leadflow.definitions import Form

_ATTEMPTS = 10


@dataclass(slots=True)
class SubmissionRequest:
    """A submission as the HTTP layer parsed it, before any validation against the form."""

    fields: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class SubmissionReply:
    submission_id: str
    contact_id: str
    ma_campaign_id: str | None
    ignored_fields: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "contact_id": self.contact_id,
            "ma_campaign_id": self.ma_campaign_id,
            "ignored_fields": self.ignored_fields,
        }


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    reply: SubmissionReply
    form: Form
    replayed: bool = False
    spam: bool = False


class FormValidationFailed(ValidationFailed):
    """The 422 for a submission its form refuses; knows the form's ``error_url``, so a native post
    can be redirected there instead."""

    def __init__(self, errors: dict[str, str], error_url: str | None) -> None:
        base = ValidationFailed.for_fields(errors)
        super().__init__(base.message, errors)
        self.error_url = error_url


@dataclass(frozen=True, slots=True)
class _Submission:
    """What every step of recording one submission needs, decided once in :func:`submit`."""

    form: Form
    clean: CleanSubmission
    submission_id: str
    key: str | None
    payload_hash: str
    now: datetime


def find_form(form_id: str) -> Form:
    form = definitions.active().bundle.form(form_id)
    if form is None or not form.enabled:
        raise NotFound(f"no form {form_id!r} accepts submissions")
    return form


def origin_allowed(form: Form, origin: str | None) -> bool:
    """Server-to-server posts carry no Origin; a browser's must be one the form allows."""
    return origins.origin_allowed(form.allowed_origins, origin)


def submit(form_id: str, request: SubmissionRequest) -> SubmissionOutcome:
    form = find_form(form_id)
    if not origin_allowed(form, request.origin):
        raise Forbidden(f"origin {request.origin} may not post to form {form_id!r}")
    try:
        header_key = clean_idempotency_key(request.idempotency_key)
        clean = clean_submission(form, request.fields, request.context)
    except InvalidFieldsError as invalid:
        metrics.add_metric(name="InvalidSubmissions", unit="Count", value=1)
        raise FormValidationFailed(invalid.errors, form.error_url) from None

    if clean.honeypot_tripped:
        metrics.add_metric(name="SpamSubmissions", unit="Count", value=1)
        reply = SubmissionReply(new_id("sub"), new_id("c"), form.campaign, clean.ignored_fields)
        return SubmissionOutcome(reply=reply, form=form, spam=True)

    key = header_key or clean.submission_id
    payload_hash = _payload_hash(request)
    if key:
        earlier = contacts_store.get_submission_reply(form.id, key)
        if earlier is not None:
            return _replay(earlier, payload_hash, form)

    submission = _Submission(
        form=form,
        clean=clean,
        submission_id=stable_id("sub", form.id, key) if key else new_id("sub"),
        key=key,
        payload_hash=payload_hash,
        now=clock.now(),
    )
    outcome = _record(submission)
    metrics.add_metric(name="Submissions", unit="Count", value=1)
    return outcome


def _replay(earlier: dict[str, Any], payload_hash: str, form: Form) -> SubmissionOutcome:
    if earlier["payload_hash"] != payload_hash:
        raise Conflict("this idempotency key was already used for a different submission")
    reply = SubmissionReply(**earlier["reply"])
    return SubmissionOutcome(reply=reply, form=form, replayed=True)


def _payload_hash(request: SubmissionRequest) -> str:
    canonical = json.dumps(
        {"fields": request.fields, "context": request.context}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _record(submission: _Submission) -> SubmissionOutcome:
    form = submission.form
    for attempt in range(_ATTEMPTS):
        if attempt:
            dynamo.backoff(attempt)
        contact_id = contacts_store.find_contact_id(submission.clean.email.key, consistent=True)
        try:
            if contact_id is None:
                reply, activity = _create_contact(submission)
            else:
                reply, activity = _update_contact(submission, contact_id)
        except _LostRace:
            continue
        except _DuplicateKey:
            earlier = contacts_store.get_submission_reply(form.id, submission.key or "")
            if earlier is None:
                continue
            return _replay(earlier, submission.payload_hash, form)
        _enqueue(activity)
        return SubmissionOutcome(reply=reply, form=form)
    raise TemporarilyUnavailable("the contact changed concurrently too often; retry shortly")


class _LostRace(Exception):
    """Another request created or changed this contact between our read and our write."""


class _DuplicateKey(Exception):
    """Another request with the same idempotency key committed first."""


def _create_contact(submission: _Submission) -> tuple[SubmissionReply, Activity]:
    form, clean, now = submission.form, submission.clean, submission.now
    contact = Contact(
        contact_id=new_id("c"),
        email=clean.email.address,
        email_key=clean.email.key,
        status=initial_status(double_opt_in=form.double_opt_in, consent_given=clean.consent_given),
        fields=merge_fields(clean.fields),
        ma_campaign_id=form.campaign,
        ma_campaign_joined_at=now if form.campaign else None,
        attribution=clean.context,
        consent=_consent(submission),
        created_at=now,
        updated_at=now,
    )
    activity = _activity(submission, contact.contact_id, contact_created=True, status=contact.status)
    if form.campaign:
        activity.facts.ma_campaign_joined = form.campaign
    reply = SubmissionReply(submission.submission_id, contact.contact_id, form.campaign, clean.ignored_fields)
    items = [*contacts_store.put_new_contact(contact), contacts_store.put_activity(activity)]
    _commit(submission, items, reply, activity, guard_indexes=(0, 1), joining=form.campaign)
    metrics.add_metric(name="ContactsCreated", unit="Count", value=1)
    return reply, activity


def _update_contact(submission: _Submission, contact_id: str) -> tuple[SubmissionReply, Activity]:
    form, clean = submission.form, submission.clean
    contact = contacts_store.get_contact(contact_id, consistent=True)
    if contact is None:
        raise _LostRace  # erased between the two reads: start again and create afresh
    joining = form.campaign if contact.ma_campaign_id is None and form.campaign else None
    status = status_after_submission(
        contact.status, double_opt_in=form.double_opt_in, consent_given=clean.consent_given
    )
    activity = _activity(submission, contact_id, contact_created=False, status=status)
    activity.facts.ma_campaign_joined = joining
    consent = _consent(submission)
    update = contacts_store.update_returning_contact(
        contact,
        fields=merge_fields(clean.fields),
        status=status,
        ma_campaign_id=joining,
        consent=consent.model_dump(mode="json") if consent else None,
        now=submission.now,
    )
    reply = SubmissionReply(
        submission.submission_id, contact_id, joining or contact.ma_campaign_id, clean.ignored_fields
    )
    items = [update, contacts_store.put_activity(activity)]
    _commit(submission, items, reply, activity, guard_indexes=(0,), joining=joining)
    return reply, activity


def _commit(
    submission: _Submission,
    items: list[dynamo.TransactItem],
    reply: SubmissionReply,
    activity: Activity,
    *,
    guard_indexes: tuple[int, ...],
    joining: str | None,
) -> None:
    """One transaction: the contact items, the campaign membership when joining, the key's claim."""
    form = submission.form
    if joining:
        items.append(
            campaigns_store.put_membership(
                campaigns_store.Membership(
                    campaign_id=joining,
                    contact_id=reply.contact_id,
                    status="joined",
                    source="form",
                    joined_at=clock.iso(submission.now),
                    form_id=form.id,
                )
            )
        )
    key_index = None
    if submission.key:
        key_index = len(items)
        items.append(
            contacts_store.put_submission_reply(
                form.id, submission.key, submission.payload_hash, reply.as_json()
            )
        )
    try:
        dynamo.transact_write(items)
    except dynamo.TransactionCancelled as cancelled:
        if key_index is not None and cancelled.failed_at(key_index):
            raise _DuplicateKey from None
        if cancelled.conflicted or any(cancelled.failed_at(index) for index in guard_indexes):
            raise _LostRace from None
        raise TemporarilyUnavailable("the contact changed concurrently; retry shortly") from None


def _activity(submission: _Submission, contact_id: str, *, contact_created: bool, status: str) -> Activity:
    clean = submission.clean
    return Activity(
        activity_id=submission.submission_id,
        type="form_submit",
        occurred_at=submission.now,
        contact_id=contact_id,
        anonymous_id=clean.context.anonymous_id,
        properties={"form_id": submission.form.id, "fields": clean.fields},
        context=clean.context,
        facts=ActivityFacts(contact_created=contact_created, status=str(status)),
    )


def _consent(submission: _Submission) -> Consent | None:
    clean = submission.clean
    if not clean.consent_given:
        return None
    return Consent(given_at=submission.now, form_id=submission.form.id, text=clean.consent_text)


def _enqueue(activity: Activity) -> None:
    try:
        activity_queue.send(activity)
    except Exception:  # the activity is stored and pending: the outbox sweep will enqueue it
        logger.exception(
            "activity not enqueued; left pending for the outbox sweep",
            extra={"activity": activity.activity_id},
        )
        metrics.add_metric(name="EnqueueDeferred", unit="Count", value=1)
