"""The raw MIME message: headers for deliverability and the local outbox, text and HTML parts.

Built with the standard ``email`` package under the SMTP policy, which encodes a non-ASCII subject
(RFC 2047), wraps long lines, and refuses any header value holding CR or LF: a header can never
be injected. The recipient is the bare address (no display name from a contact's fields), and the
subject was made one line by the renderer, so nothing a contact typed can reach a header raw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

#: The custom headers that name the message's origin, for the local outbox and for support.
MESSAGE_ID_HEADER = "X-Leadflow-Message-Id"
CONTACT_HEADER = "X-Leadflow-Contact-Id"
FLOW_HEADER = "X-Leadflow-Flow-Id"
STEP_HEADER = "X-Leadflow-Step-Id"
KIND_HEADER = "X-Leadflow-Kind"

#: Headers are folded only past RFC 5322's hard limit of 998 characters: folded at 78, the long
#: signed URL of ``List-Unsubscribe`` would become an RFC 2047 encoded word that no mailbox reads.
_OUTPUT = policy.SMTP.clone(max_line_length=998)


class UnsendableAddressError(ValueError):
    """An address SES cannot carry: a permanent failure of this send, never a retry."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who, what and which: everything that goes into the headers."""

    sender: str
    to: str
    subject: str
    message_id: str
    contact_id: str
    date: datetime
    kind: str = "flow"
    reply_to: str | None = None
    flow_id: str | None = None
    step_id: str | None = None
    list_unsubscribe: list[str] = field(default_factory=list)


def address(text: str) -> Address:
    """``a@example.com`` or ``Name <a@example.com>`` as a header address; an internationalised
    domain is sent in its ASCII (IDNA) form; a non-ASCII local part needs SMTPUTF8, which SES
    does not offer, so it is refused with the reason."""
    name, addr_spec = parseaddr(text)
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain:
        raise UnsendableAddressError(f"{text!r} is not an email address")
    if not local.isascii():
        raise UnsendableAddressError("the address's local part is not ASCII, which SES cannot deliver")
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsendableAddressError(f"the domain of {text!r} cannot be encoded for DNS") from None
    try:
        return Address(display_name=name, username=local, domain=ascii_domain)
    except ValueError as error:
        raise UnsendableAddressError(str(error)) from None


def message_id_header(message_id: str, sender: Address) -> str:
    """Deterministic: the same message id always gives the same ``Message-ID``."""
    return f"<{message_id}@{sender.domain}>"


def build_message(envelope: Envelope, *, html: str, text: str) -> bytes:
    """The whole message as bytes for SES ``Content.Raw``: multipart/alternative, text first."""
    sender = address(envelope.sender)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = address(envelope.to)
    if envelope.reply_to:
        message["Reply-To"] = address(envelope.reply_to)
    message["Subject"] = envelope.subject
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = message_id_header(envelope.message_id, sender)
    if envelope.list_unsubscribe:
        # RFC 2369 List-Unsubscribe, and RFC 8058 one-click: the HTTPS URI takes a POST
        message["List-Unsubscribe"] = ", ".join(f"<{uri}>" for uri in envelope.list_unsubscribe)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message[KIND_HEADER] = envelope.kind
    message[MESSAGE_ID_HEADER] = envelope.message_id
    message[CONTACT_HEADER] = envelope.contact_id
    if envelope.flow_id:
        message[FLOW_HEADER] = envelope.flow_id
    if envelope.step_id:
        message[STEP_HEADER] = envelope.step_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=_OUTPUT)
