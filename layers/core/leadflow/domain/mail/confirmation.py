"""The double opt-in confirmation email: one link to ``/v1/confirm/{token}``, nothing else.

A bundle may replace the wording with a template of id ``confirm-subscription`` (it gets
``confirm_url``; a template that forgets the link gets it appended, so no confirmation email
goes out without it). The person has not consented yet, so this email carries no open pixel,
no click tracking and no marketing unsubscribe: it is the one email a pending contact gets.
Its tokens carry the form id as ``flow_id`` and ``confirm`` as ``step_id``, which is how the
confirm route can record which form's opt-in a click confirmed.
"""

from __future__ import annotations

import html as html_escaping
from datetime import datetime

from leadflow.definitions.templates import EmailTemplate
from leadflow.domain.contacts import Contact
from leadflow.domain.mail.compose import ComposedEmail, MessageIds, Sending, assemble, signer_for
from leadflow.domain.mail.html_text import html_to_text
from leadflow.domain.mail.render import render, template_context
from leadflow.ids import stable_id

TEMPLATE_ID = "confirm-subscription"
STEP_ID = "confirm"

BUILT_IN = EmailTemplate.model_validate(
    {
        "id": TEMPLATE_ID,
        "name": "Double opt-in confirmation",
        "subject": "Please confirm your subscription",
        "html": (
            "<p>Hi {{ first_name | default('there') }},</p>"
            "<p>Please confirm that you want to receive our emails:</p>"
            '<p><a href="{{ confirm_url }}">Yes, subscribe me</a></p>'
            "<p>If you did not ask for this, ignore this email: you will not hear from us again.</p>"
        ),
        "text": (
            "Hi {{ first_name | default('there') }},\n\n"
            "Please confirm that you want to receive our emails by opening this link:\n"
            "{{ confirm_url }}\n\n"
            "If you did not ask for this, ignore this email: you will not hear from us again.\n"
        ),
    }
)


def confirmation_message_id(contact_id: str, form_id: str, submission_id: str) -> str:
    """One confirmation per submission: a redelivered submission builds the same message."""
    return stable_id("msg", "confirm", contact_id, form_id, submission_id)


def compose_confirmation(
    contact: Contact,
    *,
    form_id: str,
    message_id: str,
    sending: Sending,
    now: datetime,
    template: EmailTemplate | None = None,
) -> ComposedEmail:
    """The confirmation email for a ``pending`` contact; ``template`` is the bundle's override."""
    chosen = template or BUILT_IN
    ids = MessageIds(message_id=message_id, flow_id=form_id, step_id=STEP_ID)
    confirm_url = signer_for(contact, ids, sending, now).confirm_url()
    rendered = render(chosen, {**template_context(contact), "confirm_url": confirm_url})
    html = rendered.html
    if confirm_url not in html and html_escaping.escape(confirm_url, quote=True) not in html:
        html += (
            f'<p><a href="{html_escaping.escape(confirm_url, quote=True)}">Confirm my subscription</a></p>'
        )
    text = rendered.text if rendered.text is not None else html_to_text(html)
    if confirm_url not in text:
        text = f"{text.rstrip()}\n\nConfirm your subscription: {confirm_url}\n"
    return assemble(
        rendered,
        contact,
        ids,
        template=chosen,
        sending=sending,
        now=now,
        html=html,
        text=text,
        kind="confirmation",
        list_unsubscribe=[],
        tracked=(),
        unsubscribe_url=None,
    )
