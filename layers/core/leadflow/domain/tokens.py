"""Signed email tokens: the opaque part of open-pixel, click, unsubscribe and confirm links.

A token is ``<payload>.<signature>``, both URL-safe base64 without padding:

- the payload is compact JSON with one-letter keys (``k`` kind, ``c`` contact id, ``m`` message
  id, ``f`` flow id, ``s`` step id, ``u`` target URL of a click, ``t`` issued-at in Unix seconds);
- the signature is HMAC-SHA256 over ``lf1.<payload>``, truncated to 128 bits (RFC 2104 allows
  truncation to half the hash; 128 bits cannot be guessed), which keeps a link short.

The kind is inside the signed payload and checked on verify, so an open token cannot be
replayed as a click or an unsubscribe. Verification accepts a list of keys so the signing key
can be rotated without breaking links already sent: the first key signs, every key verifies.
Pure: no AWS, no clock (the caller passes ``issued_at``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

_VERSION = b"lf1."
_SIGNATURE_BYTES = 16
_MIN_KEY_BYTES = 32
_MAX_TOKEN_CHARS = 4096
_MAX_URL_CHARS = 2048
_MAX_ID_CHARS = 128
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")


class Kind(StrEnum):
    """What a token may be used for; each route accepts exactly one kind."""

    OPEN = "o"
    CLICK = "c"
    UNSUBSCRIBE = "u"
    CONFIRM = "f"


class InvalidTokenError(ValueError):
    """The token is malformed, tampered with, signed by an unknown key, or of another kind."""


class SigningKeyError(ValueError):
    """The configured signing key is missing or too short to be safe."""


@dataclass(frozen=True, slots=True)
class TokenPayload:
    """What an email link proves: who got which message, from which flow step, and for clicks where to go."""

    kind: Kind
    contact_id: str
    message_id: str
    issued_at: int
    flow_id: str | None = None
    step_id: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))

    def _compact(self) -> dict[str, str | int]:
        fields: dict[str, str | int | None] = {
            "k": self.kind.value,
            "c": self.contact_id,
            "m": self.message_id,
            "f": self.flow_id,
            "s": self.step_id,
            "u": self.url,
            "t": self.issued_at,
        }
        return {name: value for name, value in fields.items() if value is not None}


type KeyLike = bytes | str


def _key_bytes(key: KeyLike) -> bytes:
    data = key.encode() if isinstance(key, str) else key
    if len(data) < _MIN_KEY_BYTES:
        raise SigningKeyError(f"a signing key needs at least {_MIN_KEY_BYTES} bytes")
    return data


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64.match(text):
        raise InvalidTokenError("the token is not URL-safe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTokenError("the token is not URL-safe base64") from None


def _mac(key: bytes, encoded_payload: str) -> bytes:
    digest = hmac.new(key, _VERSION + encoded_payload.encode("ascii"), hashlib.sha256).digest()
    return digest[:_SIGNATURE_BYTES]


def check_url(url: str) -> str:
    """Only absolute http(s) URLs with a host may be signed into a click: never ``javascript:``."""
    if not isinstance(url, str):
        raise ValueError("a link URL must be text")
    if len(url) > _MAX_URL_CHARS:
        raise ValueError(f"a link URL has at most {_MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValueError("a link URL may not contain whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("a link URL must be an absolute http or https URL")
    return url


def _check_payload(payload: TokenPayload) -> None:
    """The rules every token obeys, applied when signing and again after verifying."""
    for name in ("contact_id", "message_id", "flow_id", "step_id"):
        value = getattr(payload, name)
        if value is None and name in ("flow_id", "step_id"):
            continue
        if not isinstance(value, str) or not 1 <= len(value) <= _MAX_ID_CHARS:
            raise ValueError(f"{name} must be 1 to {_MAX_ID_CHARS} characters")
    if isinstance(payload.issued_at, bool) or not isinstance(payload.issued_at, int) or payload.issued_at < 0:
        raise ValueError("issued_at must be Unix seconds")
    if payload.kind is Kind.CLICK:
        if payload.url is None:
            raise ValueError("a click token needs the target URL")
        check_url(payload.url)
    elif payload.url is not None:
        raise ValueError("only click tokens carry a URL")


def sign(payload: TokenPayload, key: KeyLike) -> str:
    """The token for ``payload``; raises ValueError for a payload no route would accept."""
    _check_payload(payload)
    document = json.dumps(payload._compact(), separators=(",", ":"), ensure_ascii=False)
    encoded = _b64encode(document.encode("utf-8"))
    return f"{encoded}.{_b64encode(_mac(_key_bytes(key), encoded))}"


def verify(token: str, keys: KeyLike | Sequence[KeyLike], kind: Kind) -> TokenPayload:
    """The payload of a genuine token of ``kind``; raises :class:`InvalidTokenError` otherwise.

    The signature is checked (in constant time, against every key) before the payload is parsed.
    """
    key_list = [keys] if isinstance(keys, bytes | str) else list(keys)
    if not key_list:
        raise SigningKeyError("no signing key is configured")
    secret_keys = [_key_bytes(key) for key in key_list]
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidTokenError("the token is malformed")
    encoded, signature_text = token.split(".")
    if not _B64.match(encoded):
        raise InvalidTokenError("the token is not URL-safe base64")
    signature = _b64decode(signature_text)
    if len(signature) != _SIGNATURE_BYTES or _b64encode(signature) != signature_text:
        raise InvalidTokenError("the token's signature is malformed")
    matches = [hmac.compare_digest(_mac(secret, encoded), signature) for secret in secret_keys]
    if not any(matches):
        raise InvalidTokenError("the token's signature does not match")
    payload = _decode(_b64decode(encoded))
    wanted = Kind(kind)
    if payload.kind is not wanted:
        stated = payload.kind.name.lower()
        raise InvalidTokenError(f"wrong kind of token: {stated}, expected {wanted.name.lower()}")
    return payload


def _decode(data: bytes) -> TokenPayload:
    """Checked again although signed: a token made with a leaked old key must still have a sane shape."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidTokenError("the token's payload is malformed") from None
    if not isinstance(document, dict) or not set(document) <= {"k", "c", "m", "f", "s", "u", "t"}:
        raise InvalidTokenError("the token's payload is malformed")
    try:
        payload = TokenPayload(
            kind=Kind(document.get("k", "")),
            contact_id=document.get("c", ""),
            message_id=document.get("m", ""),
            issued_at=document.get("t", -1),
            flow_id=document.get("f"),
            step_id=document.get("s"),
            url=document.get("u"),
        )
        _check_payload(payload)  # the values' types too: JSON may hold anything
    except ValueError as error:
        raise InvalidTokenError(f"the token's payload is invalid: {error}") from None
    return payload


def keys_from_secret(text: str) -> list[bytes]:
    """The signing keys stored in the secret: one key, or a JSON list whose first key signs.

    Rotation: put ``["<new key>", "<old key>"]`` in the secret; links signed with the old key keep
    working, new links use the new key; drop the old key once its emails no longer matter.
    """
    value = text.strip()
    if value.startswith("["):
        try:
            keys = json.loads(value)
        except json.JSONDecodeError:
            raise SigningKeyError("the signing secret is not a JSON list of keys") from None
        if not isinstance(keys, list) or not keys or not all(isinstance(key, str) for key in keys):
            raise SigningKeyError("the signing secret must be a key or a non-empty JSON list of keys")
        return [_key_bytes(key.strip()) for key in keys]
    return [_key_bytes(value)]
