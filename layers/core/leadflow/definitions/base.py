"""The base model and the small value types that every section shares.

Every definitions model forbids unknown keys (a typo is an error, not a silently ignored
setting) and is frozen (definitions are read by many requests and must not be changed by one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    ValidationInfo,
)

VARIANT_PREFIX = "variant:"
"""Marks the union tags in pydantic error locations, so the loader can drop them from paths."""

END = "end"
"""The successor name that finishes a flow."""

STORED = "leadflow_stored"
"""Validation context key: the data is a bundle read back from the store (``load_stored``).

It was checked in full when it was applied, so only its shape is rebuilt: the cross-reference
checks and the template compilation do not run, and neither does any check that guards what
may be *applied* (``applying``). A check made stricter later refuses new bundles, never the
active one a Lambda must keep running on.
"""


def reading_stored(info: ValidationInfo) -> bool:
    """Whether this validation reads back a stored, already-checked bundle."""
    return bool((info.context or {}).get(STORED))


def applying(info: ValidationInfo) -> bool:
    """Whether apply-time checks should run: not when a stored bundle is read back."""
    return not reading_stored(info)


class DefinitionModel(BaseModel):
    """Base of every definitions model: strict keys, immutable, Python keywords spelled by alias."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


def variant(name: str) -> Tag:
    """A union tag, marked so paths skip it: ``steps[3].then``, not ``steps[3].<tag>.then``."""
    return Tag(VARIANT_PREFIX + name)


def key_discriminator(keys: Sequence[str]) -> Callable[[Any], str | None]:
    """Pick a union member by which one of ``keys`` an item has, for shapes like ``{send_email: ...}``.

    Works for raw input (a dict) and for model instances (when serialising). Zero or several of
    the keys give ``None``, which pydantic reports with the union's own message.
    """

    def discriminate(value: Any) -> str | None:
        if isinstance(value, dict):
            present = [key for key in keys if key in value]
        elif isinstance(value, BaseModel):
            present = [key for key in keys if key in type(value).model_fields]
        else:
            return None
        return VARIANT_PREFIX + present[0] if len(present) == 1 else None

    return discriminate


def one_of_keys(keys: Sequence[str], what: str) -> Discriminator:
    """A discriminator for ``what`` items told apart by which one of ``keys`` they carry."""
    return Discriminator(
        key_discriminator(keys),
        custom_error_type=f"invalid_{what.replace(' ', '_')}",
        custom_error_message=f"{what} needs exactly one of: {', '.join(keys)}",
    )


# ---- value types -------------------------------------------------------------------------------

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$"),
    Field(description="an id: 1 to 64 lowercase letters, digits, dashes or underscores"),
]

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"),
    Field(description="a field name: a letter or underscore, then letters, digits or underscores (max 64)"),
]

DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    Field(description="a human-readable name"),
]

TagName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="a contact tag, 1 to 64 characters"),
]

_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")


def _check_origin(value: str) -> str:
    """Origins are compared with the browser's ``Origin`` header, so normalise case and a trailing slash."""
    origin = value.strip().lower().removesuffix("/")
    if origin == "*" or _ORIGIN.match(origin):
        return origin
    raise ValueError(
        f'"{value}" is not an origin: write scheme and host (and port), such as '
        '"https://www.example.com" or "http://localhost:3000", "https://*.example.com", or "*"'
    )


Origin = Annotated[
    str,
    AfterValidator(_check_origin),
    Field(description='a browser origin such as "https://www.example.com", "https://*.example.com", or "*"'),
]


def _check_url(value: str) -> str:
    if re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        return value
    raise ValueError(f'"{value}" is not an http(s) URL')


WebUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(_check_url),
    Field(description="an absolute http:// or https:// URL"),
]


def _check_scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"{value!r} is not a plain value: use text, a number, true or false")


ScalarValue = Annotated[
    str | int | float | bool,
    PlainValidator(_check_scalar, json_schema_input_type=str | int | float | bool),
]
"""A plain value in a property or custom field (no lists or objects); one message, not one per type."""
