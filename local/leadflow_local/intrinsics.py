"""CloudFormation intrinsic functions, resolved against the resources the local stack created.

The expanded template says ``!Ref ContactsTable`` and ``!GetAtt ActivityQueue.Arn``; the
functions need the table's name and the queue's URL. Resolving here, from the same template
AWS deploys, is what keeps the local environment free of a second hand-kept list.

Only what template.yaml uses is resolved: ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``. Any other
``Fn::`` (and template conditions) stops the start with its name, rather than passing through
as data: add it here, with a test, when the template needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class IntrinsicError(ValueError):
    """A template expression the local stack cannot resolve (named with its location)."""


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class ResourceAttributes:
    """What ``Ref`` and ``Fn::GetAtt`` return for one resource."""

    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)

    def get(self, logical_id: str, name: str) -> Any:
        if name not in self.attributes:
            known = ", ".join(sorted(self.attributes)) or "none"
            raise IntrinsicError(f"{logical_id} has no attribute {name!r} locally (known: {known})")
        return self.attributes[name]


Lookup = Callable[[str], ResourceAttributes]


def _split_sub_name(name: str) -> tuple[str, str | None]:
    """``Res.Attr.Sub`` -> ("Res", "Attr.Sub"); pseudo parameters keep their ``::``."""
    if name.startswith("AWS::") or "." not in name:
        return name, None
    head, _, rest = name.partition(".")
    return head, rest


class Resolver:
    """Evaluates intrinsics in a template value; resources come from ``lookup`` (may create lazily)."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        lookup: Lookup,
    ) -> None:
        self._parameters = dict(parameters)
        self._pseudo = dict(pseudo)
        self._lookup = lookup

    # ------------------------------------------------------------------ public
    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                handler = self._FUNCTIONS.get(key)
                if handler is not None:
                    return handler(self, argument)
                if key.startswith("Fn::"):
                    raise IntrinsicError(
                        f"{key} is not resolved locally (template.yaml uses Ref, Fn::GetAtt and Fn::Sub)"
                    )
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def ref(self, name: str) -> Any:
        if name in self._parameters:
            return self._parameters[name]
        if name in self._pseudo:
            return self._pseudo[name]
        if name.startswith("AWS::"):
            raise IntrinsicError(f"pseudo parameter {name} is not known locally")
        return self._lookup(name).ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self._lookup(logical_id).get(logical_id, attribute)

    # ------------------------------------------------------------- functions
    def _fn_ref(self, argument: Any) -> Any:
        return self.ref(str(self.resolve(argument)))

    def _fn_get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = (self.resolve(part) for part in argument)
        return self.get_att(str(logical_id), str(attribute))

    def _fn_sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            else:
                head, attribute = _split_sub_name(name)
                value = self.ref(head) if attribute is None else self.get_att(head, attribute)
            return _as_text(value, f"Fn::Sub variable {name}")

        return _SUB_VARIABLE.sub(replace, str(text))

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
    }


def _as_text(value: Any, where: str) -> str:
    """CloudFormation renders numbers and booleans into strings the way JSON does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise IntrinsicError(f"{where}: expected text, got {type(value).__name__} {value!r}")


def as_environment_value(value: Any, name: str) -> str:
    """A Lambda environment variable is text; CloudFormation converts scalars the same way."""
    return _as_text(value, f"environment variable {name}")
