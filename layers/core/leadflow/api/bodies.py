"""Request bodies as API Gateway delivers them: JSON, urlencoded and multipart form posts.

Decoding is strict: a body that is not UTF-8, JSON that does not parse, or a media type we do
not accept is a clear client error, never a 500 and never a silent guess.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs

from leadflow.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TEXT = "text/plain"


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


def json_object(data: bytes, charset: str | None = None) -> dict[str, Any]:
    text = _text(data, charset)
    if not text.strip():
        raise ValidationFailed.for_fields({"body": "the body is empty; expected a JSON object"})
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationFailed.for_fields(
            {"body": f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"}
        ) from None
    if not isinstance(value, dict):
        raise ValidationFailed.for_fields({"body": f"expected a JSON object, got {type(value).__name__}"})
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
        return {name: values[0] if len(values) == 1 else values for name, values in parsed.items()}
    return _multipart(data, media)


def _multipart(data: bytes, media: MediaType) -> dict[str, Any]:
    if not media.boundary:
        raise ValidationFailed.for_fields({"body": "multipart body without a boundary"})
    header = f'Content-Type: {MULTIPART}; boundary="{media.boundary}"\r\nMIME-Version: 1.0\r\n\r\n'.encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(header + data)
    if not message.is_multipart():
        raise ValidationFailed.for_fields({"body": "malformed multipart body"})
    collected: dict[str, list[Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if part.get_filename():
            raise ValidationFailed.for_fields({name: "file uploads are not accepted"})
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        try:
            value = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed.for_fields({name: "the value is not valid UTF-8"}) from None
        collected.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in collected.items()}
