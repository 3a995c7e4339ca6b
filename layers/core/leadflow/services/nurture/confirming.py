"""The double opt-in confirmation email, sent once per submission from the processor's path.

A ``form_submit`` of a ``double_opt_in`` form that left the contact ``pending`` asks for one
confirmation email. The processor puts its claim (``EFFECT#<confirmation message id>``,
``claimed``) in the activity's own transaction (``claim_items``), so the submission claims it once
however often it is delivered; after the commit (and again on any redelivery, which finds the
activity applied) ``send`` carries it out with the same at-most-once rule as a flow's email
(services/nurture/sending.py): ``claimed`` -> ``sending`` before SES, ``done`` after, with an
``email_sent`` entry (``kind: confirmation``) in the contact's history in the same write. A claim
found ``sending`` is never sent again (``EmailSendOutcomeUnknown``); throttling releases it and
raises, so the activity is redelivered and the email retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.domain.activities import Activity
from leadflow.observability import logger, metrics
from leadflow.store import contacts as contacts_store
from leadflow.store import enrollments as enrollments_store
from leadflow.store.dynamo import TransactItem

if TYPE_CHECKING:
    from leadflow.definitions import Bundle

KIND = "confirmation"
NO_SENDER = "no sender: deploy with EmailSender, or give the bundle's confirm-subscription template a from"


def _message_id(bundle: Bundle, activity: Activity) -> str | None:
    """The confirmation's message id when this activity asks for one, else None."""
    if activity.type != "form_submit" or activity.facts.status != "pending" or activity.contact_id is None:
        return None
    form_id = activity.properties.get("form_id")
    form = bundle.form(form_id) if isinstance(form_id, str) else None
    if form is None or not form.double_opt_in:
        return None
    from leadflow.domain.mail.confirmation import confirmation_message_id

    return confirmation_message_id(activity.contact_id, form.id, activity.activity_id)


def claim_items(bundle: Bundle, activity: Activity, now: datetime) -> list[TransactItem]:
    """The claim to ride in the activity's transaction (empty when no confirmation is asked)."""
    message_id = _message_id(bundle, activity)
    if message_id is None or activity.contact_id is None:
        return []
    return [
        enrollments_store.claim_item(
            activity.contact_id,
            message_id,
            KIND,
            now,
            form_id=str(activity.properties["form_id"]),
            submission_id=activity.activity_id,
        )
    ]


def send(bundle: Bundle, activity: Activity) -> str:
    """Carry out the activity's confirmation claim: ``sent``, ``suppressed`` (no longer pending),
    ``unknown`` (found mid-send), ``rejected``, ``done`` (before), or ``none`` (no claim)."""
    message_id = _message_id(bundle, activity)
    if message_id is None or activity.contact_id is None:
        return "none"
    contact_id = activity.contact_id
    status = enrollments_store.claim_status(contact_id, message_id)
    if status is None:
        return "none"
    if status == enrollments_store.DONE:
        return "done"
    now = clock.now()
    form_id = str(activity.properties["form_id"])
    if status == enrollments_store.SENDING:
        logger.warning("confirmation found mid-send; not sent again", extra={"confirmation": message_id})
        metrics.add_metric(name="EmailSendOutcomeUnknown", unit="Count", value=1)
        return _record(contact_id, message_id, form_id, now, "unknown")
    outcome, reason = _compose_and_send(bundle, contact_id, message_id, form_id, now)
    return _record(contact_id, message_id, form_id, now, outcome, reason)


def _compose_and_send(
    bundle: Bundle, contact_id: str, message_id: str, form_id: str, now: datetime
) -> tuple[str, str | None]:
    # the composer (Jinja2, MIME) loads on the first confirmation, not at the processor's cold start
    from leadflow.adapters import secrets, ses
    from leadflow.domain.mail.compose import Sending
    from leadflow.domain.mail.confirmation import TEMPLATE_ID, compose_confirmation
    from leadflow.domain.mail.eligibility import confirmation_refusal
    from leadflow.domain.mail.mime import UnsendableAddressError
    from leadflow.domain.mail.render import RenderError
    from leadflow.services.nurture import sending
    from leadflow.settings import SettingsError, get_settings

    contact = contacts_store.get_contact(contact_id, consistent=True)
    refusal = confirmation_refusal(contact)
    if refusal is not None or contact is None:
        logger.info("confirmation not sent", extra={"confirmation": message_id, "reason": refusal})
        return "suppressed", refusal
    settings = get_settings()
    template = bundle.template(TEMPLATE_ID)
    sender = (template.sender if template else None) or settings.email_sender
    if not settings.public_base_url:
        raise SettingsError("PUBLIC_BASE_URL must be set")
    if not sender:
        # a deployment without EmailSender and a bundle without a sending confirm-subscription
        # template: recorded on the claim and counted (never blocks the activity, never retried)
        logger.error("confirmation not sent: no sender", extra={"confirmation": message_id})
        metrics.add_metric(name="ConfirmationsWithoutSender", unit="Count", value=1)
        return "rejected", NO_SENDER
    try:
        email = compose_confirmation(
            contact,
            form_id=form_id,
            message_id=message_id,
            sending=Sending(
                base_url=settings.public_base_url, signing_key=secrets.signing_key(), default_sender=sender
            ),
            now=now,
            template=template,
        )
    except (RenderError, UnsendableAddressError) as error:
        return "rejected", str(error)
    if not enrollments_store.begin_sending(contact_id, message_id, now):
        metrics.add_metric(name="EmailSendOutcomeUnknown", unit="Count", value=1)
        return "unknown", None  # another delivery is sending it right now, or did
    tags = {sending.CONTACT_TAG: contact_id, sending.MESSAGE_TAG: message_id, sending.FLOW_TAG: form_id}
    try:
        ses.send_raw(email.raw, to=email.to, sender=email.sender, tags=tags)
    except ses.PermanentSendError as error:
        return "rejected", error.reason
    except ses.RetryableSendError as error:
        if not error.ambiguous:
            enrollments_store.release_sending(contact_id, message_id)
        raise
    metrics.add_metric(name="ConfirmationEmails", unit="Count", value=1)
    return "sent", None


def _record(
    contact_id: str, message_id: str, form_id: str, now: datetime, result: str, reason: str | None = None
) -> str:
    """The claim turns done with the result; an email that went (or may have) is in the contact's
    history too."""
    facts = {"result": result, **({"reason": reason} if reason else {})}
    if result not in ("sent", "unknown"):
        return result if enrollments_store.mark_done(contact_id, message_id, now, **facts) else "done"
    history = Activity(
        activity_id=message_id,
        type="email_sent",
        occurred_at=now,
        contact_id=contact_id,
        properties={
            "kind": KIND,
            "message_id": message_id,
            "form_id": form_id,
            "result": result,
        },
    )
    if not enrollments_store.done_with_history(contact_id, message_id, now, history=history, **facts):
        return "done"
    return result
