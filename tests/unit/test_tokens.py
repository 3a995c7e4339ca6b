"""Signed email tokens: what a link proves, and every way a forged or altered link is refused."""

from __future__ import annotations

import base64
import json

import pytest

from leadflow.domain.tokens import (
    InvalidTokenError,
    Kind,
    SigningKeyError,
    TokenPayload,
    keys_from_secret,
    sign,
    verify,
)

KEY = "k" * 64
OLD_KEY = "o" * 64
CLICK = TokenPayload(
    kind=Kind.CLICK,
    contact_id="c_01",
    message_id="m_01",
    issued_at=1_795_000_000,
    flow_id="welcome",
    step_id="intro",
    url="https://www.example.com/pricing?plan=pro",
)
OPEN = TokenPayload(kind=Kind.OPEN, contact_id="c_01", message_id="m_01", issued_at=1_795_000_000)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("payload", [CLICK, OPEN])
def test_a_signed_token_verifies_to_the_same_payload(payload):
    token = sign(payload, KEY)
    assert verify(token, KEY, payload.kind) == payload


def test_every_kind_round_trips_and_flow_and_step_are_optional():
    for kind in (Kind.OPEN, Kind.UNSUBSCRIBE, Kind.CONFIRM):
        payload = TokenPayload(kind=kind, contact_id="c_9", message_id="m_9", issued_at=0)
        assert verify(sign(payload, KEY), [KEY], kind) == payload


def test_token_is_url_safe_and_compact():
    token = sign(OPEN, KEY)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert len(token) < 120
    payload_part, signature_part = token.split(".")
    assert len(signature_part) == 22  # 128-bit truncated HMAC-SHA256
    assert json.loads(base64.urlsafe_b64decode(payload_part + "==")) == {
        "k": "o",
        "c": "c_01",
        "m": "m_01",
        "t": 1_795_000_000,
    }


def test_signing_is_deterministic_and_key_dependent():
    assert sign(OPEN, KEY) == sign(OPEN, KEY)
    assert sign(OPEN, KEY) != sign(OPEN, OLD_KEY)


# ---------------------------------------------------------------- tampering and garbage


def test_a_changed_payload_is_refused():
    token = sign(CLICK, KEY)
    payload_part, signature_part = token.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload_part + "=="))
    document["u"] = "https://evil.example/phish"
    forged = f"{_b64(json.dumps(document, separators=(',', ':')).encode())}.{signature_part}"
    with pytest.raises(InvalidTokenError, match="signature does not match"):
        verify(forged, KEY, Kind.CLICK)


def test_a_changed_signature_is_refused():
    token = sign(CLICK, KEY)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidTokenError):
        verify(flipped, KEY, Kind.CLICK)


def test_a_token_signed_with_another_key_is_refused():
    with pytest.raises(InvalidTokenError, match="signature does not match"):
        verify(sign(CLICK, OLD_KEY), KEY, Kind.CLICK)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "nodot",
        "a.b.c",
        ".",
        "abc.",
        ".abc",
        "not base64!.AAAAAAAAAAAAAAAAAAAAAA",
        "eyJrIjoibyJ9.short",
        "é.AAAAAAAAAAAAAAAAAAAAAA",
        "x" * 5000,
    ],
)
def test_garbage_is_refused_with_invalid_token(garbage):
    with pytest.raises(InvalidTokenError):
        verify(garbage, KEY, Kind.OPEN)


def test_a_validly_signed_but_malformed_payload_is_refused():
    # Given a payload no sign() call would make (as if an old key had leaked), signed correctly
    import hashlib
    import hmac

    encoded = _b64(b'{"k":"c","c":"c_1","m":"m_1","t":1,"u":"javascript:alert(1)"}')
    mac = hmac.new(KEY.encode(), b"lf1." + encoded.encode(), hashlib.sha256).digest()[:16]
    # Then the URL is still checked after the signature
    with pytest.raises(InvalidTokenError, match="http or https"):
        verify(f"{encoded}.{_b64(mac)}", KEY, Kind.CLICK)


# ---------------------------------------------------------------- kinds


def test_an_open_token_is_not_a_click_token():
    with pytest.raises(InvalidTokenError, match="wrong kind of token: open, expected click"):
        verify(sign(OPEN, KEY), KEY, Kind.CLICK)


def test_a_click_token_is_not_an_unsubscribe_token():
    with pytest.raises(InvalidTokenError, match="wrong kind of token: click, expected unsubscribe"):
        verify(sign(CLICK, KEY), KEY, Kind.UNSUBSCRIBE)


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/file",
        "//evil.example/path",
        "/relative/path",
        "https://",
        "https://exa mple.com/",
        "https://example.com/\nSet-Cookie: x",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_only_absolute_http_urls_can_be_signed_into_a_click(url):
    payload = TokenPayload(kind=Kind.CLICK, contact_id="c", message_id="m", issued_at=0, url=url)
    with pytest.raises(ValueError, match="link URL"):
        sign(payload, KEY)


def test_a_click_needs_a_url_and_other_kinds_carry_none():
    with pytest.raises(ValueError, match="needs the target URL"):
        sign(TokenPayload(kind=Kind.CLICK, contact_id="c", message_id="m", issued_at=0), KEY)
    with pytest.raises(ValueError, match="only click tokens"):
        sign(
            TokenPayload(kind=Kind.OPEN, contact_id="c", message_id="m", issued_at=0, url="https://x.io"), KEY
        )


@pytest.mark.parametrize(
    ("field", "value"), [("contact_id", ""), ("message_id", "m" * 200), ("flow_id", ""), ("issued_at", -1)]
)
def test_ids_and_time_are_checked_when_signing(field, value):
    fields = {"kind": Kind.OPEN, "contact_id": "c", "message_id": "m", "issued_at": 0, field: value}
    with pytest.raises(ValueError, match=field):
        sign(TokenPayload(**fields), KEY)


# ---------------------------------------------------------------- keys and rotation


def test_rotation_first_key_signs_and_every_key_verifies():
    old_token = sign(CLICK, OLD_KEY)
    keys = keys_from_secret(json.dumps([KEY, OLD_KEY]))
    assert keys == [KEY.encode(), OLD_KEY.encode()]
    assert verify(old_token, keys, Kind.CLICK) == CLICK
    new_token = sign(CLICK, keys[0])
    assert verify(new_token, [KEY], Kind.CLICK) == CLICK
    with pytest.raises(InvalidTokenError):
        verify(new_token, [OLD_KEY], Kind.CLICK)


def test_a_plain_secret_is_one_key():
    assert keys_from_secret(f"  {KEY}\n") == [KEY.encode()]


@pytest.mark.parametrize("secret", ["short", "[]", '["short"]', "[1, 2]", "[not json", '{"key": "x"}'])
def test_unusable_secrets_are_refused(secret):
    with pytest.raises(SigningKeyError):
        keys_from_secret(secret)


def test_short_keys_are_refused_for_signing_and_verifying():
    with pytest.raises(SigningKeyError):
        sign(OPEN, "too-short")
    with pytest.raises(SigningKeyError):
        verify(sign(OPEN, KEY), [], Kind.OPEN)
