"""What DynamoDB can keep, as one pure check that validators and the store's serialiser share.

A value accepted from a client is later written by the store. If the two disagreed, the client
would be told "accepted" and the write would fail on every retry until the message reached a
dead-letter queue. So both go through :func:`storable`: the validators call it with their own
(smaller) nesting bound and text rule, ``store/dynamo.py`` calls it on every attribute it writes.

DynamoDB's limits (Developer Guide, "Quotas" and "Data types"):

- a Number has at most 38 significant digits, and a magnitude from 1E-130 to 9.99...E+125 (or 0);
- documents (maps and lists) nest at most 32 levels;
- a string is UTF-8, so a lone surrogate cannot be written; a map key (an attribute name) cannot be
  empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

MAX_DEPTH = 32
MAX_DIGITS = 38
MAX_ADJUSTED_EXPONENT = 125
MIN_ADJUSTED_EXPONENT = -130
#: boto3 writes numbers through a decimal context with Emin -128 and 38 digits: no digit may sit
#: below 1E-165, or the conversion rounds (and boto3 refuses to round).
_MIN_EXPONENT = -165
#: Integers of more bits than this are above 9.99E+125 whatever their digits: refused before any
#: conversion to decimal, so a huge integer costs nothing.
_MAX_INT_BITS = 420

type TextRule = Callable[[str], str | None]


class UnstorableValueError(ValueError):
    """``path`` names the part of the value that cannot be kept (empty for the value itself)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


def number(value: int | float | Decimal, path: str = "") -> Decimal:
    """The exact decimal DynamoDB keeps for ``value`` (trailing zeros folded into the exponent, so
    ``10**39`` is the one significant digit it is); :class:`UnstorableValueError` if it has none."""
    if isinstance(value, bool):
        raise UnstorableValueError(path, "a boolean is not a number")
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise UnstorableValueError(path, "number too large: at most 9.99e125 in magnitude")
        decimal = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UnstorableValueError(path, "numbers must be finite")
        decimal = Decimal(repr(value))
    else:
        if not value.is_finite():
            raise UnstorableValueError(path, "numbers must be finite")
        decimal = value
    if not decimal:
        return Decimal(0)
    sign, digits, exponent = decimal.as_tuple()
    assert isinstance(exponent, int)
    significant = list(digits)
    while significant[-1] == 0:
        significant.pop()
        exponent += 1
    adjusted = exponent + len(significant) - 1
    if len(significant) > MAX_DIGITS:
        raise UnstorableValueError(path, f"more than {MAX_DIGITS} significant digits")
    if adjusted > MAX_ADJUSTED_EXPONENT:
        raise UnstorableValueError(path, "number too large: at most 9.99e125 in magnitude")
    if adjusted < MIN_ADJUSTED_EXPONENT or exponent < _MIN_EXPONENT:
        raise UnstorableValueError(path, "number too small: at least 1e-130 in magnitude, or 0")
    if len(digits) <= MAX_DIGITS:
        return decimal  # as written: 100 stays 100, not 1E+2
    return Decimal((sign, tuple(significant), exponent))


def _unencodable(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def storable(
    value: Any,
    *,
    max_depth: int = MAX_DEPTH,
    text_rule: TextRule | None = None,
    key_rule: TextRule | None = None,
    path: str = "",
) -> Any:
    """``value`` as DynamoDB keeps it (every number a :class:`~decimal.Decimal`), or
    :class:`UnstorableValueError` naming the first part that cannot be kept.

    ``max_depth`` counts maps and lists: a map holding a list is 2 levels. ``text_rule`` and
    ``key_rule`` let a validator add its own rule for strings and map keys (say why, or None).
    Recursion stops at ``max_depth``, so a value nested a thousand levels costs 33 frames.
    """
    return _storable(value, 0, max_depth, text_rule, key_rule, path)


def _storable(
    value: Any, depth: int, max_depth: int, text_rule: TextRule | None, key_rule: TextRule | None, path: str
) -> Any:
    if isinstance(value, str):
        if _unencodable(value):
            raise UnstorableValueError(path, "text must not contain a lone surrogate")
        reason = text_rule(value) if text_rule else None
        if reason:
            raise UnstorableValueError(path, reason)
        return value
    if value is None or isinstance(value, bool | bytes | bytearray):
        return value
    if isinstance(value, int | float | Decimal):
        return number(value, path)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        if depth + 1 > max_depth:
            raise UnstorableValueError(path, f"nested more than {max_depth} levels deep")
        if isinstance(value, Mapping):
            result: dict[str, Any] = {}
            for key, inner in value.items():
                if not isinstance(key, str) or not key:
                    raise UnstorableValueError(path, "a key must be non-empty text")
                if _unencodable(key):
                    raise UnstorableValueError(path, "a key must not contain a lone surrogate")
                reason = key_rule(key) if key_rule else None
                if reason:
                    raise UnstorableValueError(_child(path, key), f"key {reason}")
                result[key] = _storable(inner, depth + 1, max_depth, text_rule, key_rule, _child(path, key))
            return result
        if isinstance(value, set | frozenset):
            return {_storable(inner, depth + 1, max_depth, text_rule, key_rule, path) for inner in value}
        return [
            _storable(inner, depth + 1, max_depth, text_rule, key_rule, _child(path, index))
            for index, inner in enumerate(value)
        ]
    raise UnstorableValueError(path, f"a {type(value).__name__} cannot be stored")
