"""Rendering an email template for one contact, in the same sandbox the bundle was checked in.

A variable the contact lacks prints as nothing or as its ``default(...)``; anything else that goes
wrong at send time (a sandbox refusal, arithmetic on a missing value, a filter given the wrong
type) becomes :class:`RenderError` with the reason, for the step's record: never an exception
that escapes into a worker and retries for ever.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from leadflow.definitions.templates import EmailTemplate, jinja_environment
from leadflow.domain.contacts import Contact

if TYPE_CHECKING:
    from jinja2 import Template

#: Line breaks and other controls a subject must never carry (a header line ends at CR or LF).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")
MAX_SUBJECT_CHARS = 998


class RenderError(ValueError):
    """The template could not be rendered for this contact; ``reason`` says why (for the step record)."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"the {part} could not be rendered: {reason}")
        self.part = part
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A template rendered for one contact, before tracking links and the footer are added."""

    subject: str
    html: str
    text: str | None


#: Names the renderer sets itself: a contact field of the same name never replaces them.
RESERVED = ("contact", "email", "unsubscribe_url", "confirm_url")


def template_context(contact: Contact, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a template sees: the contact's fields by name (``first_name``), the extra context (such
    as the trigger's properties: ``cart``), then ``email`` and ``contact`` (email, fields, score,
    stage, tags, lists), which nothing overrides."""
    context: dict[str, Any] = {**contact.fields, **(extra or {})}
    context["email"] = contact.email
    context["contact"] = {
        "email": contact.email,
        "fields": dict(contact.fields),
        "score": contact.score,
        "stage": contact.stage,
        "tags": list(contact.tags),
        "lists": list(contact.lists),
    }
    return context


def one_line(text: str) -> str:
    """A subject on one line: line breaks and controls (from a contact's field) become spaces."""
    return _SPACES.sub(" ", _CONTROLS.sub(" ", text)).strip()[:MAX_SUBJECT_CHARS]


@lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    """Compiled once per container and source: a worker sending one template to many contacts
    compiles it once (compiling is most of the cost of an email)."""
    return jinja_environment(html=html).from_string(source)


def render_part(source: str, context: Mapping[str, Any], *, part: str, html: bool = False) -> str:
    """One part rendered; every failure is a :class:`RenderError` naming the part."""
    from jinja2 import TemplateError

    try:
        return _compiled(source, html).render(context)
    except TemplateError as error:
        raise RenderError(part, f"{type(error).__name__}: {error.message or error}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError, RecursionError) as error:
        raise RenderError(part, f"{type(error).__name__}: {error}") from None


def render(template: EmailTemplate, context: Mapping[str, Any]) -> RenderedEmail:
    """Subject and text unescaped, HTML autoescaped; an empty subject is a failure, not a blank email."""
    subject = one_line(render_part(template.subject, context, part="subject"))
    if not subject:
        raise RenderError("subject", "it rendered empty for this contact")
    html = render_part(template.html, context, part="html", html=True)
    text = render_part(template.text, context, part="text") if template.text is not None else None
    return RenderedEmail(subject=subject, html=html, text=text)
