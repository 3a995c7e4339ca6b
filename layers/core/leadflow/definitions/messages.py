"""Turning pydantic's validation errors into problems a marketer can act on.

Paths follow the document (``flows[0].steps[3].then``, with aliases such as ``else``); union tags
are dropped; pydantic's generic wording is replaced where we know better.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import Tag

from leadflow.definitions.base import VARIANT_PREFIX, DefinitionModel
from leadflow.definitions.errors import Problem

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

_PATTERNS = {
    r"^[a-z0-9_-]{1,64}$": "an id is 1 to 64 lowercase letters, digits, dashes or underscores",
    r"^[A-Za-z_][A-Za-z0-9_]{0,63}$": "a name is a letter or underscore, then letters, digits or underscores",
    r"^[A-Za-z0-9_-]{8,128}$": "a write key is 8 to 128 letters, digits, dashes or underscores",
}


def join_path(loc: Sequence[int | str]) -> str:
    """``("flows", 0, "steps", 3, "then")`` -> ``flows[0].steps[3].then``; union tags left out."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.startswith(VARIANT_PREFIX):
            path += f".{part}" if path else part
    return path


def _flatten(annotation: Any, tag: str | None = None) -> list[tuple[Any, str | None]]:
    """The concrete types an annotation may hold, with the union tag each was marked with."""
    if get_origin(annotation) is Annotated:
        inner, *extras = get_args(annotation)
        marks = [extra.tag for extra in extras if isinstance(extra, Tag)]
        return _flatten(inner, marks[0] if marks else tag)
    if get_origin(annotation) in (Union, UnionType):
        return [pair for member in get_args(annotation) for pair in _flatten(member, tag)]
    return [(annotation, tag)]


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, DefinitionModel)


def _keys_at(loc: Sequence[int | str]) -> set[str]:
    """The keys allowed where ``loc`` points, found by walking the models from ``Bundle``."""
    from leadflow.definitions.bundle import Bundle

    candidates: list[tuple[Any, str | None]] = [(Bundle, None)]
    for part in loc:
        following: list[tuple[Any, str | None]] = []
        if isinstance(part, str) and part.startswith(VARIANT_PREFIX):
            following = [(kind, tag) for kind, tag in candidates if tag in (None, part)]
        elif isinstance(part, int):
            for kind, _ in candidates:
                if get_origin(kind) is list:
                    following += _flatten(get_args(kind)[0])
        else:
            for kind, _ in candidates:
                if _is_model(kind):
                    fields = {info.alias or name: info for name, info in kind.model_fields.items()}
                    if part in fields:
                        following += _flatten(fields[part].annotation)
                elif get_origin(kind) is dict:
                    following += _flatten(get_args(kind)[1])
        candidates = following
    models = [kind for kind, _ in candidates if _is_model(kind)]
    return {info.alias or name for model in models for name, info in model.model_fields.items()}


def _unknown_key(loc: Sequence[int | str]) -> str:
    key = str(loc[-1]) if loc else ""
    try:
        allowed = _keys_at(loc[:-1])
    except Exception:  # a hint must never hide the problem itself
        allowed = set()
    guess = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if guess:
        return f'unknown key (did you mean "{guess[0]}"?)'
    return f"unknown key; allowed here: {', '.join(sorted(allowed))}" if allowed else "unknown key"


def _shown(value: Any) -> str | None:
    if isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 60):
        return repr(value) if not isinstance(value, str) else f'"{value}"'
    return None


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    message = error["msg"]
    loc = error["loc"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "too_short":
        least = (error.get("ctx") or {}).get("min_length", 1)
        return f"needs at least {least} item{'s' if least != 1 else ''}"
    if kind == "string_pattern_mismatch":
        message = _PATTERNS.get(str((error.get("ctx") or {}).get("pattern")), message)
    elif kind == "value_error":
        return message.removeprefix("Value error, ")
    if message.startswith("Input should be"):
        message = "should be" + message.removeprefix("Input should be")
    shown = _shown(error.get("input"))
    return f"{message} (got {shown})" if shown is not None else message


def problems_from(error: ValidationError, prefix: Sequence[int | str] = ()) -> Iterator[Problem]:
    """One problem per pydantic error, at its document path."""
    for detail in error.errors(include_url=False):
        yield Problem(join_path([*prefix, *detail["loc"]]), _message(detail))
