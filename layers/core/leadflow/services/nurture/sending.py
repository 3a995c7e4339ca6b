"""The step worker's real sender: eligibility, the template, composition, then SES, at most once.

Before the SES call the effect's claim turns ``claimed`` -> ``sending`` (conditional). A
redelivery that finds it ``sending`` cannot know whether SES took the message (a crash between
SES accepting and the claim turning ``done``), so it sends nothing and records ``unknown``, counted
in ``EmailSendOutcomeUnknown``: an email step sends at most once, never twice. A failure that
surely sent nothing (throttling, no connection) turns the claim back to ``claimed`` and raises, so
the step message is retried.
"""

from __future__ import annotations

from leadflow import clock
from leadflow.adapters import secrets, ses
from leadflow.domain.contacts import Contact
from leadflow.domain.mail.eligibility import marketing_refusal
from leadflow.domain.nurture.effects import SendEmail
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.services.nurture.mailer import MailResult
from leadflow.settings import SettingsError, get_settings
from leadflow.store import enrollments as enrollments_store

CONTACT_TAG = "leadflow_contact"
MESSAGE_TAG = "leadflow_message"
FLOW_TAG = "leadflow_flow"
STEP_TAG = "leadflow_step"


def send_step_email(effect: SendEmail, contact: Contact) -> MailResult:
    """Send ``effect``'s email to ``contact`` once, with ``effect.effect_id`` as its message id."""
    # the composer (Jinja2, MIME) loads on the first email, not at the worker's cold start
    from leadflow.domain.mail.compose import MessageIds, Sending, compose
    from leadflow.domain.mail.mime import UnsendableAddressError
    from leadflow.domain.mail.render import RenderError

    refusal = marketing_refusal(contact)
    if refusal is not None:
        logger.info("email step suppressed", extra={"effect": effect.effect_id, "reason": refusal})
        return MailResult(status="suppressed")
    template = definitions.active().bundle.template(effect.template)
    if template is None:
        return MailResult(status="rejected", rejected=f"the template {effect.template!r} does not exist")
    settings = get_settings()
    sender = template.sender or settings.email_sender
    if not sender or not settings.public_base_url:
        raise SettingsError("EMAIL_SENDER (or the template's from) and PUBLIC_BASE_URL must be set")
    now = clock.now()
    try:
        email = compose(
            template,
            contact,
            ids=MessageIds(effect.effect_id, effect.flow_id, effect.step_id),
            sending=Sending(
                base_url=settings.public_base_url,
                signing_key=secrets.signing_key(),
                default_sender=sender,
                unsubscribe_mailto=settings.unsubscribe_mailto or None,
            ),
            now=now,
            extra={"trigger": effect.trigger},
        )
    except (RenderError, UnsendableAddressError) as error:
        return MailResult(status="rejected", rejected=str(error))
    if not enrollments_store.begin_sending(contact.contact_id, effect.effect_id, now):
        logger.warning("email step found mid-send; not sent again", extra={"effect": effect.effect_id})
        metrics.add_metric(name="EmailSendOutcomeUnknown", unit="Count", value=1)
        return MailResult(status="unknown", message_id=effect.effect_id)
    tags = {
        CONTACT_TAG: contact.contact_id,
        MESSAGE_TAG: effect.effect_id,
        FLOW_TAG: effect.flow_id,
    }
    if effect.step_id:
        tags[STEP_TAG] = effect.step_id
    try:
        ses.send_raw(email.raw, to=email.to, sender=email.sender, tags=tags)
    except ses.PermanentSendError as error:
        return MailResult(status="rejected", rejected=error.reason)
    except ses.RetryableSendError as error:
        if not error.ambiguous:
            enrollments_store.release_sending(contact.contact_id, effect.effect_id)
        raise
    return MailResult(status="sent", message_id=effect.effect_id)
