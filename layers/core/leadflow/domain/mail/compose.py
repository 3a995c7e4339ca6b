"""One flow email for one contact: render, track, add unsubscribe, build the raw message.

Pure: the caller (the step worker) passes the signing key, the public base URL, the time and the
ids. The message id should be deterministic for the enrollment step (the worker derives it), so
a retried step builds the same ``Message-ID`` and the same links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow.definitions.templates import EmailTemplate
from leadflow.domain.contacts import Contact
from leadflow.domain.mail import links
from leadflow.domain.mail.html_text import html_to_text
from leadflow.domain.mail.mime import Envelope, build_message
from leadflow.domain.mail.render import RenderedEmail, render, template_context
from leadflow.domain.tokens import KeyLike


@dataclass(frozen=True, slots=True)
class MessageIds:
    """Which message this is and where it comes from (all signed into its links)."""

    message_id: str
    flow_id: str | None = None
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sending:
    """The deployment's side of a send: where links point, how they are signed, the default sender."""

    base_url: str
    signing_key: KeyLike
    default_sender: str
    unsubscribe_mailto: str | None = None


@dataclass(frozen=True, slots=True)
class ComposedEmail:
    """What the SES adapter sends (``raw``), with the parts kept for logs and tests."""

    message_id: str
    to: str
    sender: str
    subject: str
    html: str
    text: str
    raw: bytes
    tracked_urls: tuple[str, ...]
    unsubscribe_url: str | None


def signer_for(contact: Contact, ids: MessageIds, sending: Sending, now: datetime) -> links.LinkSigner:
    return links.LinkSigner(
        base_url=sending.base_url,
        key=sending.signing_key,
        contact_id=contact.contact_id,
        message_id=ids.message_id,
        issued_at=int(now.timestamp()),
        flow_id=ids.flow_id,
        step_id=ids.step_id,
    )


def compose(
    template: EmailTemplate,
    contact: Contact,
    *,
    ids: MessageIds,
    sending: Sending,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> ComposedEmail:
    """The marketing email: tracked links, open pixel, visible and header unsubscribe.

    Raises ``RenderError`` (the template cannot be rendered for this contact) or
    ``UnsendableAddressError`` (SES cannot carry the address): both permanent, with a reason.
    """
    signer = signer_for(contact, ids, sending, now)
    unsubscribe_url = signer.unsubscribe_url()
    context = {**template_context(contact, extra), "unsubscribe_url": unsubscribe_url}
    rendered = render(template, context)
    text = rendered.text if rendered.text is not None else html_to_text(rendered.html)
    html, tracked = links.rewrite_links(rendered.html, signer)
    html = links.add_footer_and_pixel(html, unsubscribe_url=unsubscribe_url, open_url=signer.open_url())
    text = links.text_with_unsubscribe(text, unsubscribe_url)
    one_click = [unsubscribe_url]
    if sending.unsubscribe_mailto:
        one_click.append(f"mailto:{sending.unsubscribe_mailto}?subject=unsubscribe")
    return assemble(
        rendered,
        contact,
        ids,
        template=template,
        sending=sending,
        now=now,
        html=html,
        text=text,
        kind="flow",
        list_unsubscribe=one_click,
        tracked=tuple(tracked),
        unsubscribe_url=unsubscribe_url,
    )


def assemble(
    rendered: RenderedEmail,
    contact: Contact,
    ids: MessageIds,
    *,
    template: EmailTemplate,
    sending: Sending,
    now: datetime,
    html: str,
    text: str,
    kind: str,
    list_unsubscribe: list[str],
    tracked: tuple[str, ...],
    unsubscribe_url: str | None,
) -> ComposedEmail:
    sender = template.sender or sending.default_sender
    envelope = Envelope(
        sender=sender,
        to=contact.email,
        subject=rendered.subject,
        message_id=ids.message_id,
        contact_id=contact.contact_id,
        date=now,
        kind=kind,
        reply_to=template.reply_to,
        flow_id=ids.flow_id,
        step_id=ids.step_id,
        list_unsubscribe=list_unsubscribe,
    )
    return ComposedEmail(
        message_id=ids.message_id,
        to=contact.email,
        sender=sender,
        subject=rendered.subject,
        html=html,
        text=text,
        raw=build_message(envelope, html=html, text=text),
        tracked_urls=tracked,
        unsubscribe_url=unsubscribe_url,
    )
