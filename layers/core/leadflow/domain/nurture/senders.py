"""Who an email comes from: refused when the bundle is applied rather than failing at send time.

A template's ``from`` wins; without one the deployment's ``EMAIL_SENDER`` (the stack parameter
``EmailSender``) is used. A deployment without it can send only templates that name their sender,
so a bundle with a template that does not is refused (422), each template named by its path:
otherwise every contact reaching that step would fail, days later, one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadflow.definitions.errors import Problem

if TYPE_CHECKING:
    from leadflow.definitions import Bundle

NO_SENDER = (
    "this template has no from, and this deployment has no default sender (the stack parameter "
    "EmailSender): give the template a from, or deploy with EmailSender"
)


def sender_problems(bundle: Bundle, default_sender: str | None) -> list[Problem]:
    """The templates that could not be sent from anyone, by path (none when there is a default)."""
    if default_sender:
        return []
    return [
        Problem(f"email_templates[{index}].from", NO_SENDER)
        for index, template in enumerate(bundle.email_templates)
        if not template.sender
    ]
