"""Identifiers: sortable random ids for new things, deterministic ids for things that may repeat."""

from __future__ import annotations

import hashlib
import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, remainder = divmod(number, 32)
        chars.append(_CROCKFORD[remainder])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A ULID-style id (48-bit milliseconds + 80 random bits), sortable by creation time."""
    millis = int(time.time() * 1000)
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(80), 16)}"


def stable_id(prefix: str, *parts: str) -> str:
    """The same parts always give the same id: how a redelivered event is recognised."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return f"{prefix}_{_encode(int.from_bytes(digest[:15]), 24)}"


def shard_of(value: str, shards: int) -> int:
    """A stable shard number for ``value``, spreading hot keys over ``shards`` partitions."""
    return int.from_bytes(hashlib.blake2s(value.encode(), digest_size=4).digest()) % shards
