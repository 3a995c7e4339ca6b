"""Request bodies as API Gateway delivers them: JSON, urlencoded and multipart form posts.

Decoding is strict: a body that is not UTF-8, JSON that does not parse, or a media type we do
not accept is a clear client error, never a 500 and never a silent guess.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from typing import Any
from urllib.parse import parse_qs

from leadflow.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TEXT = "text/plain"
#: No request Leadflow defines nests deeper; a body that does is refused as a whole, before any
#: code walks it (validators, the store and pydantic all have recursion limits of their own).
MAX_JSON_DEPTH = 64
#: Far more than any number the store keeps (38 digits), far less than Python's 4,300-digit limit.
MAX_INTEGER_DIGITS = 1000
_TOO_DEEP = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"


@dataclass(frozen=True, slots=True)
class MediaType:
    essence: str
    charset: str | None = None
    boundary: str | None = None

    @classmethod
    def parse(cls, header: str | None) -> MediaType | None:
        if not header:
            return None
        message = Message()
        message["content-type"] = header
        charset = message.get_param("charset")
        boundary = message.get_param("boundary")
        return cls(
            essence=message.get_content_type().lower(),
            charset=str(charset).lower() if isinstance(charset, str) else None,
            boundary=str(boundary) if isinstance(boundary, str) else None,
        )


def raw_body(event_body: str | None, is_base64: bool, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's bytes, refusing bodies over ``limit`` before any parsing."""
    if not event_body:
        return b""
    if is_base64:
        if len(event_body) > (limit * 4) // 3 + 8:
            raise PayloadTooLarge(f"the body is larger than {limit // 1024} KiB")
        try:
            data = base64.b64decode(event_body, validate=True)
        except binascii.Error:
            raise ValidationFailed.for_fields({"body": "not valid base64"}) from None
    else:
        data = event_body.encode("utf-8", errors="surrogateescape")
    if len(data) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit // 1024} KiB")
    return data


def _text(data: bytes, charset: str | None) -> str:
    if charset not in (None, "utf-8", "utf8", "us-ascii"):
        raise UnsupportedMediaType(f"charset {charset} is not supported; send UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.for_fields({"body": "the body is not valid UTF-8"}) from None


class _UnwantedJsonError(ValueError):
    """A literal JSON would parse but no client means: NaN, Infinity, a number beyond any range."""


def _refuse_constant(name: str) -> Any:
    raise _UnwantedJsonError(f"{name} is not a JSON number; send a finite number or null")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise _UnwantedJsonError(f"the number {literal[:20]} is out of range")
    return number


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _UnwantedJsonError(f"a number has more than {MAX_INTEGER_DIGITS} digits")
    return int(literal)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_object(data: bytes, charset: str | None = None) -> dict[str, Any]:
    """A JSON object; every way the text can fail is a 422 naming why, never a 500."""
    text = _text(data, charset)
    if not text.strip():
        raise ValidationFailed.for_fields({"body": "the body is empty; expected a JSON object"})
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except json.JSONDecodeError as error:
        raise ValidationFailed.for_fields(
            {"body": f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"}
        ) from None
    except _UnwantedJsonError as error:
        raise ValidationFailed.for_fields({"body": str(error)}) from None
    except RecursionError:
        raise ValidationFailed.for_fields({"body": _TOO_DEEP}) from None
    except ValueError as error:  # the parser's own limits, such as the integer-string length
        raise ValidationFailed.for_fields({"body": f"unreadable JSON: {error}"}) from None
    if not isinstance(value, dict):
        raise ValidationFailed.for_fields({"body": f"expected a JSON object, got {type(value).__name__}"})
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise ValidationFailed.for_fields({"body": _TOO_DEEP})
    return value


def form_fields(data: bytes, media: MediaType) -> dict[str, Any]:
    """A native form post's fields; a name sent twice gives a list. Uploaded files are not
    accepted by forms: they are reported back under their field name."""
    if media.essence == URLENCODED:
        text = _text(data, media.charset)
        try:
            parsed = parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise ValidationFailed.for_fields(
                {"body": "a percent-encoded value is not valid UTF-8"}
            ) from None
        except ValueError as error:
            raise ValidationFailed.for_fields({"body": f"malformed form body: {error}"}) from None
        return {name: values[0] if len(values) == 1 else values for name, values in parsed.items()}
    return _multipart(data, media)


def _multipart(data: bytes, media: MediaType) -> dict[str, Any]:
    if not media.boundary:
        raise ValidationFailed.for_fields({"body": "multipart body without a boundary"})
    header = f'Content-Type: {MULTIPART}; boundary="{media.boundary}"\r\nMIME-Version: 1.0\r\n\r\n'.encode()
    try:
        message = BytesParser(policy=policy.HTTP).parsebytes(header + data)
        parts = list(message.iter_parts()) if message.is_multipart() else None
    except Exception:  # the email parser's failures on hostile bytes are many; all are the client's
        raise ValidationFailed.for_fields({"body": "malformed multipart body"}) from None
    if parts is None:
        raise ValidationFailed.for_fields({"body": "malformed multipart body"})
    collected: dict[str, list[Any]] = {}
    for part in parts:
        name, value = _form_part(part)
        if name is not None:
            collected.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in collected.items()}


def _form_part(part: Message) -> tuple[str | None, str]:
    """One part's field name and text; a part without a name is not a form field."""
    try:
        raw_name = part.get_param("name", header="content-disposition")
        name = collapse_rfc2231_value(raw_name) if raw_name is not None else None
        filename = part.get_filename()
        payload = None if part.is_multipart() else part.get_payload(decode=True)
    except Exception:  # as above: a header the parser cannot read is the client's error
        raise ValidationFailed.for_fields({"body": "a multipart part has unreadable headers"}) from None
    if not isinstance(name, str) or not name:
        return None, ""
    if filename:
        raise ValidationFailed.for_fields({name: "file uploads are not accepted"})
    if part.is_multipart():
        raise ValidationFailed.for_fields({name: "nested multipart parts are not accepted"})
    content = payload if isinstance(payload, bytes) else b""
    try:
        return name, content.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.for_fields({name: "the value is not valid UTF-8"}) from None
