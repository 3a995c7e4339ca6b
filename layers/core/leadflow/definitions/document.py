"""Reading a bundle's text: YAML (or JSON) into plain data, with syntax errors as line/column problems.

YAML is read with YAML 1.2 core rules rather than PyYAML's 1.1 defaults, because 1.1 surprises
marketers: ``[Yes, No]`` would become booleans, ``22:00`` the number 1320 and ``010`` the number 8.
Here only true/false are booleans and times stay text. Duplicate keys, which YAML would silently
resolve to the last one, are errors. PyYAML is imported only when text is read.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from leadflow.definitions.errors import DefinitionsError, Problem

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
    r")$"
)
#: ``.inf`` and ``.nan`` stay text (so a number field refuses them by name): no store or report can
#: use a number that is not finite, the same rule as JSON's ``NaN`` and ``Infinity`` below.

_TOO_DEEP = "the document is nested too deeply to read"


@cache
def _loader() -> type:
    """A safe YAML loader with YAML 1.2 core scalars and duplicate-key detection (built on first use)."""
    import yaml  # type: ignore[import-untyped, unused-ignore]
    from yaml.constructor import ConstructorError  # type: ignore[import-untyped, unused-ignore]

    base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type, unused-ignore]
        yaml_implicit_resolvers = {
            first: [
                (tag, regexp)
                for tag, regexp in resolvers
                if tag.rsplit(":", 1)[-1] not in {"bool", "int", "float"}
            ]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, str) and key in seen:
                    raise ConstructorError(None, None, f'duplicate key "{key}"', key_node.start_mark)
                if isinstance(key, str):
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
    return Loader


def _yaml(text: str) -> Any:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506  # a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = ": ".join(part for part in (error.context, error.problem) if part)
        raise DefinitionsError([Problem("", f"YAML syntax error at {where}{what}")]) from None
    except yaml.YAMLError as error:
        raise DefinitionsError([Problem("", f"YAML syntax error: {error}")]) from None
    except RecursionError:
        raise DefinitionsError([Problem("", _TOO_DEEP)]) from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f'duplicate key "{key}"')
        result[key] = value
    return result


def _not_finite(name: str) -> Any:
    raise ValueError(f"{name} is not a number a bundle can hold; numbers must be finite")


def _json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_not_finite)
    except json.JSONDecodeError as error:
        raise DefinitionsError(
            [Problem("", f"JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}")]
        ) from None
    except ValueError as error:
        raise DefinitionsError([Problem("", f"JSON error: {error}")]) from None
    except RecursionError:
        raise DefinitionsError([Problem("", _TOO_DEEP)]) from None


def read_document(data: str | bytes | dict[str, Any], content_type: str | None = None) -> dict[str, Any]:
    """The bundle as plain data: JSON when ``content_type`` says so (with JSON's messages), else YAML."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DefinitionsError(
                [Problem("", f"the document is not UTF-8 text (byte {error.start})")]
            ) from None
    if isinstance(data, str):
        is_json = content_type is not None and "json" in content_type.lower()
        document = _json(data) if is_json else _yaml(data)
    else:
        document = data
    if document is None:
        raise DefinitionsError(
            [Problem("", "the document is empty: a bundle has sections such as forms: and flows:")]
        )
    if not isinstance(document, dict):
        raise DefinitionsError(
            [
                Problem(
                    "",
                    f"a bundle maps sections (forms:, flows:, ...), not a {type(document).__name__}",
                )
            ]
        )
    return document
