"""CloudFormation intrinsic functions, resolved against the resources the local stack created.

The expanded template says ``!Ref ContactsTable`` and ``!GetAtt ActivityQueue.Arn``; the
functions need the table's name and the queue's URL. Resolving here, from the same template
AWS deploys, is what keeps the local environment free of a second hand-kept list.

Only what template.yaml uses is resolved: ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, and for its
optional parts conditions (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``),
``Fn::If`` and ``AWS::NoValue``. Any other ``Fn::`` stops the start with its name, rather than
passing through as data: add it here, with a test, when the template needs it.
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


_NO_VALUE = object()
"""What ``Ref: AWS::NoValue`` resolves to: the key (or list item) holding it is left out."""


class Resolver:
    """Evaluates intrinsics in a template value; resources come from ``lookup`` (may create lazily)."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        lookup: Lookup,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self._parameters = dict(parameters)
        self._pseudo = dict(pseudo)
        self._lookup = lookup
        self._condition_definitions = dict(conditions or {})
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """A template condition's value (evaluated once, on parameters only)."""
        if name not in self._conditions:
            if name not in self._condition_definitions:
                raise IntrinsicError(f"no condition named {name!r} in the template")
            self._conditions[name] = self._truth(self._condition_definitions[name], name)
        return self._conditions[name]

    def _truth(self, value: Any, where: str) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return _as_text(left, where) == _as_text(right, where)
            if key == "Fn::Not":
                return not self._truth(argument[0], where)
            if key == "Fn::And":
                return all(self._truth(item, where) for item in argument)
            if key == "Fn::Or":
                return any(self._truth(item, where) for item in argument)
            if key == "Condition":
                return self.condition(str(argument))
        raise IntrinsicError(f"condition {where}: {value!r} is not a condition function locally")

    # ------------------------------------------------------------------ public
    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated (``AWS::NoValue`` leaves its key or item out)."""
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                handler = self._FUNCTIONS.get(key)
                if handler is not None:
                    return handler(self, argument)
                if key.startswith("Fn::"):
                    raise IntrinsicError(
                        f"{key} is not resolved locally (template.yaml uses Ref, Fn::GetAtt, Fn::Sub and Fn::If)"
                    )
            resolved = {key: self._resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self._resolve(item) for item in value) if item is not _NO_VALUE]
        return value

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
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

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self._resolve(when_true if self.condition(str(name)) else when_false)

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
        "Fn::If": _fn_if,
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
