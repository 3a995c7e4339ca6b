"""Counts AWS requests and DynamoDB write capacity per operation, with botocore event hooks.

moto's own ConsumedCapacity figures are wrong (see TOOLCHAIN.md), so write units are computed
here from the stored items' sizes by DynamoDB's published rules: 1 WCU per started KB for a
standard write, 2 for a transactional one, plus one standard write per GSI the item is in.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
_deserialize = TypeDeserializer().deserialize


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, int | float | Decimal):
        digits = len(str(abs(Decimal(str(value)))).replace(".", "").lstrip("0")) or 1
        return 1 + math.ceil(digits / 2)
    if isinstance(value, bytes | bytearray) or hasattr(value, "value"):
        raw = value.value if hasattr(value, "value") else value
        return len(raw)
    if isinstance(value, dict):
        return 3 + sum(len(key.encode()) + _value_size(inner) for key, inner in value.items())
    if isinstance(value, list | set | tuple):
        return 3 + sum(1 + _value_size(inner) for inner in value)
    return len(str(value).encode())


def item_size(item: dict[str, Any]) -> int:
    """An item's size in bytes by DynamoDB's rules: names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class Meter:
    requests: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-parameter-build.{service}.*", self._before)

    def reset(self) -> None:
        self.requests.clear()
        self.write_units = 0.0
        self.read_units = 0.0

    def dynamodb_writes(self) -> int:
        return sum(count for name, count in self.requests.items() if name.split(".")[1] in _WRITES)

    def count(self, service: str) -> int:
        return sum(count for name, count in self.requests.items() if name.startswith(f"{service}."))

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        self.requests[f"{service}.{model.name}"] += 1
        if service != "dynamodb":
            return
        if model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                for kind, body in entry.items():
                    table, index = self._item_units(kind, body)
                    self.write_units += 2 * table + index  # transactions double the table write only
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_units += sum(self._item_units(model.name.removesuffix("Item").capitalize(), params))
        elif model.name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest") or {}
                    kind = "Put" if "PutRequest" in request else "Delete"
                    self.write_units += sum(self._item_units(kind, body))
        elif model.name in ("GetItem", "Query"):
            consistent = params.get("ConsistentRead", False)
            self.read_units += 1.0 if consistent else 0.5

    @staticmethod
    def _item_units(kind: str, body: dict[str, Any]) -> tuple[int, int]:
        """(table write units, GSI write units) of one item write."""
        if kind == "ConditionCheck":
            return 1, 0
        item = body.get("Item") or body.get("Key") or {}
        plain = {name: _deserialize(value) for name, value in item.items()}
        if kind == "Update":
            values = body.get("ExpressionAttributeValues", {})
            plain.update({name: _deserialize(value) for name, value in values.items()})
        base = units(item_size(plain))
        in_index = base if "gsi1pk" in plain else 0  # GSI1 projects ALL attributes
        return base, in_index
