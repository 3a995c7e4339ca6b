"""Validating a form submission against its form definition: pure, every field checked at once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from leadflow.domain import storable, text
from leadflow.domain.contacts import Attribution
from leadflow.domain.emails import EmailAddress, InvalidEmail, normalise_email

if TYPE_CHECKING:
    from leadflow.definitions import Form, FormField

#: Names a native post may carry beside the form's own fields: they describe the visit, not the person.
CONTEXT_FIELDS = frozenset(Attribution.model_fields)
#: The client's own id for a submission, an alternative to the Idempotency-Key header.
SUBMISSION_ID_FIELD = "submission_id"
#: The longest submission_id or Idempotency-Key accepted (as Stripe's idempotency keys).
MAX_SUBMISSION_ID = 255

_DEFAULT_MAX_LENGTH = {
    "text": 255,
    "textarea": 5000,
    "hidden": 2000,
    "phone": 40,
    "email": 254,
    "select": 255,
}
_CONTEXT_MAX_LENGTH = 2048
_TRUE = {"on", "true", "1", "yes", "y", "checked"}
_FALSE = {"off", "false", "0", "no", "n", ""}
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,40}$")

type RawValue = str | int | float | bool | list[Any] | None


@dataclass(slots=True)
class CleanSubmission:
    """A valid submission: what to store on the contact and what to record on the activity."""

    email: EmailAddress
    fields: dict[str, Any]
    consent_given: bool | None
    consent_text: str | None
    context: Attribution
    ignored_fields: list[str]
    submission_id: str | None = None
    honeypot_tripped: bool = False
    errors: dict[str, str] = field(default_factory=dict)


class InvalidFieldsError(ValueError):
    """The submitted values that fail their form, by field name (pure; the service maps it to a 422)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"{len(errors)} invalid fields")
        self.errors = errors


def _single(value: RawValue) -> RawValue:
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError("expected a single value")
        return value[0]
    return value


def _is_blank(value: RawValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _as_text(value: RawValue) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected text")
    return str(value).strip()


def _as_bool(value: RawValue) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected a yes/no value")


def _check_text(value: str, spec: FormField) -> str:
    limit = spec.max_length or _DEFAULT_MAX_LENGTH.get(str(spec.type), 255)
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    if problem := text.problem(value, multiline=str(spec.type) == "textarea"):
        raise ValueError(problem)
    return value


def _clean_value(spec: FormField, raw: RawValue) -> Any:
    """Converts one present, non-blank value to its type, or raises ValueError with the reason."""
    kind = str(spec.type)
    value = _single(raw)
    if kind in ("checkbox", "consent"):
        return _as_bool(value)
    cleaned = _as_text(value)
    if kind in ("text", "textarea", "hidden", "email"):
        return _check_text(cleaned, spec)
    if kind == "select":
        if cleaned not in (spec.options or []):
            raise ValueError(f"must be one of: {', '.join(spec.options or [])}")
        return cleaned
    if kind == "number":
        return _clean_number(cleaned, spec)
    if kind == "phone":
        _check_text(cleaned, spec)
        if not _PHONE.fullmatch(cleaned) or sum(ch.isdigit() for ch in cleaned) < 6:
            raise ValueError("not a valid phone number")
        return cleaned
    if kind == "date":
        try:
            return date.fromisoformat(cleaned).isoformat()
        except ValueError:
            raise ValueError("expected a date as YYYY-MM-DD") from None
    raise ValueError(f"unsupported field type {kind}")


def clean_field_value(spec: FormField, raw: RawValue) -> Any:
    """One non-blank value converted to its field's type, as a submission's would be (imports use it);
    raises ValueError with the reason."""
    return _clean_value(spec, raw)


#: Integral numbers up to this magnitude are kept as integers; beyond it a float is no longer exact,
#: and ``int(1e100)`` would be a 101-digit integer that no store can hold.
_EXACT_INTEGER = 2**53


def _clean_number(value: str, spec: FormField) -> int | float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("expected a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("expected a finite number")
    minimum, maximum = getattr(spec, "min", None), getattr(spec, "max", None)
    if minimum is not None and number < minimum:
        raise ValueError(f"at least {minimum}")
    if maximum is not None and number > maximum:
        raise ValueError(f"at most {maximum}")
    try:
        storable.number(number)
    except storable.UnstorableValueError as unstorable:
        raise ValueError(unstorable.reason) from None
    return int(number) if number.is_integer() and abs(number) < _EXACT_INTEGER else number


def clean_submission(
    form: Form, raw_fields: dict[str, RawValue], raw_context: dict[str, Any]
) -> CleanSubmission:
    """Validates every field at once; raises :class:`InvalidFieldsError` listing each bad field.

    ``raw_context`` is the JSON ``context`` object; a native post's reserved fields
    (``utm_*``, ``page_url``, ``referrer``, ``anonymous_id``) are taken from ``raw_fields``.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    known = {spec.name for spec in form.fields}
    context_values: dict[str, Any] = {}
    for name, value in {**raw_fields, **raw_context}.items():
        if name in CONTEXT_FIELDS and name not in known:
            context_values[name] = value

    honeypot = form.honeypot
    honeypot_tripped = bool(honeypot) and not _is_blank(raw_fields.get(honeypot or ""))

    for spec in form.fields:
        raw = raw_fields.get(spec.name)
        is_flag = str(spec.type) in ("checkbox", "consent")
        if _is_blank(raw) or (is_flag and raw is None):
            if spec.required:
                errors[spec.name] = (
                    "consent is required" if str(spec.type) == "consent" else "this field is required"
                )
            elif is_flag:
                values[spec.name] = False
            continue
        try:
            values[spec.name] = _clean_value(spec, raw)
        except ValueError as error:
            errors[spec.name] = str(error)
            continue
        if is_flag and spec.required and values[spec.name] is not True:
            errors[spec.name] = (
                "consent is required" if str(spec.type) == "consent" else "this box must be ticked"
            )

    email: EmailAddress | None = None
    if "email" in values:
        try:
            email = normalise_email(values.pop("email"))  # its text was checked with the field
        except InvalidEmail as error:
            errors["email"] = str(error)

    context = _clean_context(context_values, errors)
    submission_id = _clean_submission_id(raw_fields.get(SUBMISSION_ID_FIELD), errors)

    if errors:
        raise InvalidFieldsError(errors)
    assert email is not None  # the form model guarantees a required email field

    consent_specs = [spec for spec in form.fields if str(spec.type) == "consent"]
    consent_given = any(values.get(spec.name) is True for spec in consent_specs) if consent_specs else None
    consent_text = next((spec.text for spec in consent_specs if values.get(spec.name) is True), None)
    for spec in consent_specs:
        values.pop(spec.name, None)

    reserved = CONTEXT_FIELDS | {SUBMISSION_ID_FIELD} | ({honeypot} if honeypot else set())
    ignored = sorted(name for name in raw_fields if name not in known and name not in reserved)
    ignored += sorted(f"context.{name}" for name in raw_context if name not in CONTEXT_FIELDS)
    return CleanSubmission(
        email=email,
        fields=values,
        consent_given=consent_given,
        consent_text=consent_text,
        context=context,
        ignored_fields=ignored,
        submission_id=submission_id,
        honeypot_tripped=honeypot_tripped,
    )


def _clean_context(raw: dict[str, Any], errors: dict[str, str]) -> Attribution:
    cleaned: dict[str, str] = {}
    for name, value in raw.items():
        try:
            value_text = _as_text(_single(value))
        except ValueError as error:
            errors[f"context.{name}"] = str(error)
            continue
        if len(value_text) > _CONTEXT_MAX_LENGTH:
            errors[f"context.{name}"] = f"at most {_CONTEXT_MAX_LENGTH} characters"
        elif problem := text.problem(value_text):
            errors[f"context.{name}"] = problem
        elif name == "anonymous_id" and value_text and not text.is_identifier(value_text):
            # the processor keys the visitor's history by it, exactly as tracking does
            errors[f"context.{name}"] = text.IDENTIFIER_RULE
        elif value_text:
            cleaned[name] = value_text
    return Attribution(**cleaned)


def _clean_submission_id(raw: RawValue, errors: dict[str, str]) -> str | None:
    if _is_blank(raw):
        return None
    try:
        value = _as_text(_single(raw))
    except ValueError as error:
        errors[SUBMISSION_ID_FIELD] = str(error)
        return None
    if not 1 <= len(value) <= MAX_SUBMISSION_ID:
        errors[SUBMISSION_ID_FIELD] = f"1 to {MAX_SUBMISSION_ID} characters"
        return None
    if problem := text.problem(value):
        errors[SUBMISSION_ID_FIELD] = problem
        return None
    return value


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


def clean_idempotency_key(raw: str | None) -> str | None:
    """The client's Idempotency-Key header, held to the submission_id rule (1 to 255 characters, the
    text rule); raises :class:`InvalidFieldsError` under the header's name."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > MAX_SUBMISSION_ID:
        raise InvalidFieldsError({IDEMPOTENCY_KEY_HEADER: f"1 to {MAX_SUBMISSION_ID} characters"})
    if problem := text.problem(value):
        raise InvalidFieldsError({IDEMPOTENCY_KEY_HEADER: problem})
    return value
