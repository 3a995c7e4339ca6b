"""Email templates: subject, HTML and text bodies in Jinja2 (sandboxed), and the sender.

The Jinja2 syntax check runs when a bundle is applied; readers of an already-validated stored
bundle skip it (``load_stored``, or ``parse_bundle(..., check_templates=False)``) so their cold
start never imports Jinja2. The renderer should use ``jinja_environment()`` too, so what validates is what renders.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import cache
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, ValidationInfo, field_validator

from leadflow.definitions.base import DefinitionModel, DisplayName, Slug, applying

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

_ADDRESS = re.compile(
    r"^[^@\s<>\"]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
CHECK_TEMPLATES = "check_templates"
"""Validation context key: ``False`` skips the Jinja2 syntax check (for stored, already-checked bundles)."""


@cache
def jinja_environment() -> SandboxedEnvironment:
    """The sandboxed environment that templates are checked (and should be rendered) with."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False)


def check_template_syntax(source: str) -> None:
    """Raise ``ValueError`` naming the line when ``source`` is not a valid Jinja2 template."""
    from jinja2 import TemplateError, TemplateSyntaxError

    try:
        jinja_environment().from_string(source)
    except TemplateSyntaxError as error:
        raise ValueError(f"template error on line {error.lineno}: {error.message}") from None
    except TemplateError as error:
        raise ValueError(f"template error: {error.message}") from None


def check_sender(value: str) -> str:
    """``events@example.com`` or ``Events <events@example.com>``."""
    name, address = parseaddr(value)
    bracketed = "<" in value
    if (
        not address
        or not _ADDRESS.match(address)
        or (name and not bracketed)
        or (bracketed and not value.strip().endswith(">"))
    ):
        raise ValueError(f'"{value}" is not a sender: write an address, or "Name <address>"')
    return value.strip()


class EmailTemplate(DefinitionModel):
    """An email a flow sends: Jinja2 subject and bodies over the contact's fields."""

    id: Annotated[Slug, Field(description="unique among templates")]
    name: Annotated[DisplayName | None, Field(description="the template's name in reports")] = None
    subject: Annotated[str, Field(min_length=1, max_length=998, description="Jinja2; one line")]
    html: Annotated[str, Field(min_length=1, description="Jinja2; the HTML body")]
    text: Annotated[str | None, Field(description="Jinja2; the plain-text body")] = None
    from_: Annotated[
        str | None,
        Field(
            alias="from", description='the sender, "address" or "Name <address>"; default: the deployment\'s'
        ),
    ] = None
    reply_to: Annotated[str | None, Field(description="a reply-to address")] = None

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("the subject must be one line")
        return value

    @field_validator("subject", "html", "text")
    @classmethod
    def _jinja(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and applying(info) and (info.context or {}).get(CHECK_TEMPLATES, True):
            check_template_syntax(value)
        return value

    @field_validator("from_", "reply_to")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        return None if value is None else check_sender(value)

    @property
    def sender(self) -> str | None:
        """``from``, under a name Python allows."""
        return self.from_
