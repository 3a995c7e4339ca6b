"""Forms: what a website may post to ``/v1/forms/{id}/submissions``, and what a submission does."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator

from leadflow.definitions.actions import Action
from leadflow.definitions.base import DefinitionModel, DisplayName, Identifier, Origin, Slug, WebUrl


class FieldType(StrEnum):
    """How a form field is validated and stored."""

    EMAIL = "email"
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    PHONE = "phone"
    SELECT = "select"
    CHECKBOX = "checkbox"
    CONSENT = "consent"
    DATE = "date"
    HIDDEN = "hidden"


DEFAULT_MAX_LENGTH: dict[FieldType, int] = {
    FieldType.EMAIL: 254,
    FieldType.TEXT: 255,
    FieldType.TEXTAREA: 5000,
    FieldType.PHONE: 32,
    FieldType.DATE: 10,
    FieldType.HIDDEN: 1000,
}
"""The length limit of each text-like type when ``max_length`` is not given (RFC 5321 for email)."""

LENGTH_LIMIT = 65_536
"""The most any field may allow: a submission's body is small by design."""

_NO_LENGTH = frozenset({FieldType.NUMBER, FieldType.SELECT, FieldType.CHECKBOX, FieldType.CONSENT})


class FormField(DefinitionModel):
    """One input of a form."""

    name: Annotated[Identifier, Field(description="the submitted field name, and the contact field it fills")]
    type: Annotated[FieldType, Field(description="email, text, textarea, number, phone, select, ...")]
    required: Annotated[bool, Field(description="a submission without it is rejected")] = False
    label: Annotated[str | None, Field(description="the label a page may show")] = None
    max_length: Annotated[
        int | None,
        Field(
            validate_default=True,
            ge=1,
            le=LENGTH_LIMIT,
            description="the longest accepted value; default text 255, textarea 5000, email 254, phone 32, "
            "date 10, hidden 1000; not for number, select, checkbox, consent",
        ),
    ] = None
    options: Annotated[
        list[str] | None,
        Field(validate_default=True, description="select only (and required there): the accepted values"),
    ] = None
    text: Annotated[
        str | None,
        Field(
            validate_default=True,
            description="consent (required) or checkbox: the wording agreed to, stored with the consent",
        ),
    ] = None
    min: Annotated[float | None, Field(description="number only: the smallest accepted value")] = None
    max: Annotated[float | None, Field(description="number only: the largest accepted value")] = None

    @field_validator("max_length")
    @classmethod
    def _length(cls, value: int | None, info: ValidationInfo) -> int | None:
        field_type = info.data.get("type")
        if field_type is None:
            return value
        if field_type in _NO_LENGTH:
            if value is not None:
                raise ValueError(f"max_length does not apply to a {field_type} field")
            return None
        return DEFAULT_MAX_LENGTH[field_type] if value is None else value

    @field_validator("options")
    @classmethod
    def _options(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        field_type = info.data.get("type")
        if field_type is FieldType.SELECT:
            if not value:
                raise ValueError("a select field needs options, such as [Engineer, Manager]")
            duplicates = sorted({option for option in value if value.count(option) > 1})
            if duplicates:
                raise ValueError(f"options are listed twice: {', '.join(duplicates)}")
        elif value is not None and field_type is not None:
            raise ValueError(f"options only apply to a select field, not {field_type}")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        field_type = info.data.get("type")
        if field_type is FieldType.CONSENT and not (value and value.strip()):
            raise ValueError("a consent field needs text: the wording the person agrees to")
        if value is not None and field_type not in (None, FieldType.CONSENT, FieldType.CHECKBOX):
            raise ValueError(f"text only applies to consent and checkbox fields, not {field_type}")
        return value

    @field_validator("min", "max")
    @classmethod
    def _bounds(cls, value: float | None, info: ValidationInfo) -> float | None:
        field_type = info.data.get("type")
        if value is not None and field_type not in (None, FieldType.NUMBER):
            raise ValueError(f"{info.field_name} only applies to a number field, not {field_type}")
        low = info.data.get("min")
        if info.field_name == "max" and value is not None and low is not None and value < low:
            raise ValueError(f"max {value:g} is less than min {low:g}")
        return value


class Form(DefinitionModel):
    """A form: its fields, who may post it, where the browser goes next, and what a submission does."""

    id: Annotated[Slug, Field(description="unique among forms; the {id} in the submission URL")]
    name: Annotated[DisplayName | None, Field(description="the form's name in reports")] = None
    campaign: Annotated[
        Slug | None,
        Field(description="an MA campaign that a submitter joins (first touch only)"),
    ] = None
    fields: Annotated[
        list[FormField],
        Field(min_length=1, description="the inputs; exactly one of type email, named email"),
    ]
    honeypot: Annotated[
        Identifier | None,
        Field(description="a hidden field people leave empty; a submission that fills it is dropped as spam"),
    ] = None
    allowed_origins: Annotated[
        list[Origin],
        Field(description='browser origins allowed to post, such as "https://www.example.com", or "*"'),
    ] = []
    redirect_url: Annotated[WebUrl | None, Field(description="where a native HTML post goes on success")] = (
        None
    )
    error_url: Annotated[
        WebUrl | None, Field(description="where a native HTML post goes on an invalid input")
    ] = None
    double_opt_in: Annotated[
        bool,
        Field(description="email a confirmation link before the person counts as subscribed"),
    ] = False
    enabled: Annotated[bool, Field(description="a disabled form rejects submissions")] = True
    on_submit: Annotated[
        list[Action],
        Field(description="completion actions, run once per submission"),
    ] = []

    _by_name: dict[str, FormField] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_name = {field.name: field for field in self.fields}

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[FormField]) -> list[FormField]:
        names = [field.name for field in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"field names are used twice: {', '.join(duplicates)}")
        emails = [field.name for field in value if field.type is FieldType.EMAIL]
        if emails != ["email"]:
            raise ValueError(
                "a form needs exactly one field of type email, named email"
                + (f" (found: {', '.join(emails)})" if emails else "")
            )
        return value

    @field_validator("honeypot")
    @classmethod
    def _honeypot(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and any(field.name == value for field in info.data.get("fields", [])):
            raise ValueError(f'the honeypot "{value}" must not be one of the form\'s fields')
        return value

    def field(self, name: str) -> FormField | None:
        """The field with this name, if the form has one."""
        return self._by_name.get(name)

    @property
    def email_field(self) -> FormField:
        """The one email field (validation guarantees it)."""
        return self._by_name["email"]
