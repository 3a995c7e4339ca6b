"""CloudFormation intrinsic functions, resolved against the resources the local stack created.

The expanded template says ``!Ref ContactsTable`` and ``!GetAtt ActivityQueue.Arn``; the
functions need the table's name and the queue's URL. Resolving here, from the same template
AWS deploys, is what keeps the local environment free of a second hand-kept list.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class IntrinsicError(ValueError):
    """A template expression the local stack cannot resolve (named with its location)."""


class _NoValue:
    """``AWS::NoValue``: the property or list item disappears, as in CloudFormation."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

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
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self._parameters = dict(parameters)
        self._pseudo = dict(pseudo)
        self._lookup = lookup
        self._condition_defs = dict(conditions or {})
        self._condition_values: dict[str, bool] = {}
        self._mappings = dict(mappings or {})

    # ------------------------------------------------------------------ public
    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated; ``AWS::NoValue`` items removed."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                handler = self._FUNCTIONS.get(key)
                if handler is not None:
                    return handler(self, argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        """The truth of a named template condition, evaluated once."""
        if name not in self._condition_values:
            if name not in self._condition_defs:
                raise IntrinsicError(f"unknown condition {name!r}")
            self._condition_values[name] = bool(self._evaluate_condition(self._condition_defs[name]))
        return self._condition_values[name]

    def ref(self, name: str) -> Any:
        if name in self._parameters:
            return self._parameters[name]
        if name in self._pseudo:
            return self._pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
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

    def _fn_join(self, argument: Any) -> str:
        delimiter, items = argument[0], self.resolve(argument[1])
        return str(delimiter).join(_as_text(item, "Fn::Join item") for item in items)

    def _fn_select(self, argument: Any) -> Any:
        index, items = self.resolve(argument[0]), self.resolve(argument[1])
        return items[int(index)]

    def _fn_split(self, argument: Any) -> list[str]:
        delimiter, text = argument[0], self.resolve(argument[1])
        return str(text).split(str(delimiter))

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_base64(self, argument: Any) -> str:
        return base64.b64encode(str(self.resolve(argument)).encode()).decode()

    def _fn_find_in_map(self, argument: Any) -> Any:
        name, top, second = (self.resolve(part) for part in argument[:3])
        try:
            return self._mappings[name][top][second]
        except KeyError as error:
            raise IntrinsicError(f"Fn::FindInMap: no {name}/{top}/{second}") from error

    def _fn_get_azs(self, argument: Any) -> list[str]:
        region = self.resolve(argument) or self._pseudo.get("AWS::Region", "us-east-1")
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_import_value(self, argument: Any) -> Any:
        raise IntrinsicError(
            f"Fn::ImportValue {self.resolve(argument)!r}: other stacks' exports do not exist locally"
        )

    def _fn_to_json_string(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument), separators=(",", ":"))

    def _fn_condition(self, argument: Any) -> bool:
        return self.condition(str(argument))

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Base64": _fn_base64,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::ImportValue": _fn_import_value,
        "Fn::ToJsonString": _fn_to_json_string,
        "Condition": _fn_condition,
    }

    # ------------------------------------------------------------ conditions
    def _evaluate_condition(self, expression: Any) -> bool:
        if not isinstance(expression, dict) or len(expression) != 1:
            return bool(self.resolve(expression))
        ((key, argument),) = expression.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(part) for part in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._evaluate_condition(argument[0])
        if key == "Fn::And":
            return all(self._evaluate_condition(part) for part in argument)
        if key == "Fn::Or":
            return any(self._evaluate_condition(part) for part in argument)
        if key == "Condition":
            return self.condition(str(argument))
        return bool(self.resolve(expression))


def _as_text(value: Any, where: str) -> str:
    """CloudFormation renders numbers and booleans into strings the way JSON does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise IntrinsicError(f"{where}: expected text, got {type(value).__name__} {value!r}")


def as_environment_value(value: Any, name: str) -> str:
    """A Lambda environment variable is text; CloudFormation converts scalars the same way."""
    if value is NO_VALUE:
        raise IntrinsicError(f"environment variable {name} resolved to AWS::NoValue")
    return _as_text(value, f"environment variable {name}")
