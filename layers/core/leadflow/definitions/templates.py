"""Email templates: subject, HTML and text bodies in Jinja2 (sandboxed), and the sender.

The Jinja2 check (syntax, and every filter and test named anywhere, even in a branch that a
given contact never takes) runs when a bundle is applied; readers of an already-validated stored
bundle skip it (``load_stored``, or ``parse_bundle(..., check_templates=False)``) so their cold
start never imports Jinja2. The renderer (``domain/mail``) uses ``jinja_environment()`` too, so what
validates is what renders.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationInfo, field_validator

from leadflow.definitions.base import DefinitionModel, DisplayName, Slug, applying

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

_ADDRESS = re.compile(
    r"^[^@\s<>\"]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
CHECK_TEMPLATES = "check_templates"
"""Validation context key: ``False`` skips the Jinja2 syntax check (for stored, already-checked bundles)."""


#: The longest text or list one ``*`` may build, and the largest exponent of ``**``: a template
#: such as ``{{ "x" * 10**9 }}`` fails to render instead of filling the function's memory.
MAX_REPEAT = 100_000
MAX_EXPONENT = 64


def _finalize(value: object) -> object:
    """A value that is there but empty (a field stored as null) prints as nothing, never ``None``."""
    return "" if value is None else value


@cache
def jinja_environment(*, html: bool = False) -> SandboxedEnvironment:
    """The sandboxed environment templates are checked and rendered with.

    A variable the contact lacks is a ``ChainableUndefined``: it prints as nothing, takes
    ``default(...)``, and ``missing.attribute`` is missing too, never a crash. ``html`` turns
    autoescaping on (the HTML part: a contact's field ``<script>`` arrives as text); subjects and
    text parts are not HTML and are not escaped.
    """
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            from jinja2.exceptions import SecurityError

            if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"an exponent above {MAX_EXPONENT} is not allowed in a template")
            if operator == "*":
                sized, count = (left, right) if isinstance(left, str | list | tuple) else (right, left)
                repeats = isinstance(sized, str | list | tuple) and isinstance(count, int)
                if repeats and len(sized) * count > MAX_REPEAT:
                    raise SecurityError(f"a repetition longer than {MAX_REPEAT} is not allowed")
            return super().call_binop(context, operator, left, right)

    return Sandbox(autoescape=html, undefined=ChainableUndefined, finalize=_finalize)


def check_template_syntax(source: str) -> None:
    """Raise ``ValueError`` naming the line when ``source`` is not a valid Jinja2 template.

    Jinja2's compiler finds an unknown filter only outside conditional blocks and an unknown test
    never (both fail at render time, for the contacts who reach them), so the parsed template is
    walked for every filter and test it names.
    """
    from jinja2 import TemplateError, TemplateSyntaxError, nodes

    environment = jinja_environment()
    try:
        tree = environment.parse(source)
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            known = environment.filters if isinstance(node, nodes.Filter) else environment.tests
            if node.name not in known:
                kind = "filter" if isinstance(node, nodes.Filter) else "test"
                raise ValueError(f"template error on line {node.lineno}: No {kind} named {node.name!r}.")
        environment.compile(tree)
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
