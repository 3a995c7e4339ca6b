"""The narrow seam between the step worker and email: ``send_step_email``.

The nurture function installs the real sender (services/nurture/sending.py: domain/mail/ and
adapters/ses.py) with :func:`install` when it imports the step worker (its first step message); without one the default records the email as ``pending_send`` on its effect claim
(``CONTACT#<id>`` / ``EFFECT#<effect id>``), so nothing is lost and nothing is sent twice: the
worker calls this at most once per claimed ``SendEmail`` that is not yet done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from leadflow.domain.contacts import Contact
from leadflow.domain.nurture.effects import SendEmail


@dataclass(frozen=True, slots=True)
class MailResult:
    """``status`` goes on the effect claim: ``sent``, ``suppressed``, ``unknown`` (found mid-send
    after a crash: not sent again), ``rejected`` or (no sender installed) ``pending_send``.
    ``rejected`` is set when SES refused the address for good: the enrollment fails with it."""

    status: str
    message_id: str | None = None
    rejected: str | None = None


type Sender = Callable[[SendEmail, Contact], MailResult]


def _record_only(effect: SendEmail, contact: Contact) -> MailResult:
    """No composer installed: the claim keeps the email as pending_send for the composer."""
    return MailResult(status="pending_send")


_sender: Sender = _record_only


def install(sender: Sender) -> Sender:
    """Install the function that renders and sends a step's email; returns the previous one."""
    global _sender
    previous, _sender = _sender, sender
    return previous


def send_step_email(effect: SendEmail, contact: Contact) -> MailResult:
    """Render and send ``effect.template`` to ``contact``; idempotent on ``effect.effect_id``
    (the sender must use it as its message key, for a retry after a crash mid-send)."""
    return _sender(effect, contact)
