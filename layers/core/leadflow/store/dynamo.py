"""What both table modules share: (de)serialisation, batch reads, transactions, and failure classification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from leadflow import aws
from leadflow.domain.storable import storable
from leadflow.errors import TemporarilyUnavailable

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

type Item = dict[str, Any]
type TransactItem = dict[str, Any]

_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
}


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo_value(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(inner) for inner in value]
    if isinstance(value, set):
        return sorted(_from_dynamo_value(inner) for inner in value)
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's wire format. Every value goes through the domain's storable check,
    the one the validators use, so what they accept is what this writes; anything else raises
    :class:`~leadflow.domain.storable.UnstorableValue` naming the attribute, before any request."""
    return {
        key: _serializer.serialize(storable(value, path=key))
        for key, value in item.items()
        if value is not None
    }


def serialize_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(storable(value, path=key)) for key, value in values.items()}


def deserialize(item: Mapping[str, Any]) -> Item:
    return {key: _from_dynamo_value(_deserializer.deserialize(value)) for key, value in item.items()}


def client() -> Any:
    return aws.client("dynamodb")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True, slots=True)
class TransactionCancelled(Exception):
    """A transaction failed on conditions; ``reasons`` holds one code per item ("None" = fine)."""

    reasons: tuple[str, ...]

    def failed_at(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"

    @property
    def conflicted(self) -> bool:
        """Another transaction held one of the items: retrying after a short pause succeeds."""
        return "TransactionConflict" in self.reasons

    @property
    def only_conditions(self) -> bool:
        return all(
            reason in ("None", "ConditionalCheckFailed", "TransactionConflict") for reason in self.reasons
        )


def transact_write(items: Sequence[TransactItem], *, idempotency_token: str | None = None) -> None:
    """Writes all items or none. Raises TransactionCancelled on a failed condition, and
    TemporarilyUnavailable on throttling or conflicts (the caller's client may retry)."""
    kwargs: dict[str, Any] = {"TransactItems": list(items)}
    if idempotency_token:
        kwargs["ClientRequestToken"] = idempotency_token[:36]
    try:
        client().transact_write_items(**kwargs)
    except ClientError as error:
        code = error_code(error)
        if code == "TransactionCanceledException":
            reasons = tuple(
                str(reason.get("Code", "None")) for reason in error.response.get("CancellationReasons", [])
            )
            cancelled = TransactionCancelled(reasons)
            if cancelled.only_conditions:
                raise cancelled from error
            raise TemporarilyUnavailable("the database is busy; retry shortly") from error
        if code in _RETRYABLE:
            raise TemporarilyUnavailable("the database is busy; retry shortly") from error
        raise


BATCH_GET_KEYS = 100  # BatchGetItem's limit per request
_BATCH_ATTEMPTS = 8


def batch_get(
    table: str, keys: Sequence[Mapping[str, Any]], *, consistent: bool = False, projection: str | None = None
) -> list[Item]:
    """The items of ``keys`` that exist (in no particular order), 100 keys a request; keys DynamoDB
    leaves unprocessed (throttling) are asked again after a backoff, so none is silently missed."""
    found: list[Item] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {"Keys": [serialize(key) for key in keys[start : start + BATCH_GET_KEYS]]}
        request["ConsistentRead"] = consistent
        if projection:
            request["ProjectionExpression"] = projection
        pending: dict[str, Any] = {table: request}
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                backoff(attempt)
            response = client().batch_get_item(RequestItems=pending)
            found += [deserialize(item) for item in response.get("Responses", {}).get(table, [])]
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise TemporarilyUnavailable("the database is busy; retry shortly")
    return found


def backoff(attempt: int, *, base: float = 0.01, cap: float = 0.5) -> None:
    """Full-jitter exponential backoff between retries of a conflicted write."""
    import random
    import time

    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))


def is_condition_failure(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"
