"""The local stack's moto speed-ups change cost only: queries and transactions answer the same."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from leadflow_local.moto_bridge import DynamoSpeedups

TABLE = "speedups"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "GSI",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        for partition in ("a", "b", "c"):
            for sort in ("3", "1", "2"):
                client.put_item(
                    TableName=TABLE,
                    Item={"pk": {"S": partition}, "sk": {"S": sort}, "g": {"S": f"g{sort}"}, "v": {"N": "0"}},
                )
        yield client


@pytest.fixture
def speedups() -> Iterator[DynamoSpeedups]:
    patch = DynamoSpeedups()
    patch.install()
    yield patch
    patch.uninstall()


def queries(client: Any) -> list[Any]:
    return [
        client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "b"}}
        )["Items"],
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p AND sk > :s",
            ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"S": "1"}},
            ScanIndexForward=False,
            Limit=1,
        ),
        client.query(
            TableName=TABLE,
            IndexName="GSI",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "g2"}},
        )["Items"],
        client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}}
        )["Items"],
    ]


def strip(result: Any) -> Any:
    if isinstance(result, dict):
        return {key: value for key, value in result.items() if key != "ResponseMetadata"}
    return result


def test_queries_answer_the_same_with_and_without(dynamodb: Any) -> None:
    plain = [strip(result) for result in queries(dynamodb)]
    patch = DynamoSpeedups()
    patch.install()
    try:
        assert [strip(result) for result in queries(dynamodb)] == plain
    finally:
        patch.uninstall()


def get(client: Any, pk: str, sk: str) -> dict[str, Any] | None:
    return client.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def test_a_cancelled_transaction_writes_nothing(dynamodb: Any, speedups: DynamoSpeedups) -> None:
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "9"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"S": "2"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "c"}, "sk": {"S": "3"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    reasons = [reason["Code"] for reason in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert get(dynamodb, "new", "1") is None
    assert get(dynamodb, "a", "1")["v"] == {"N": "0"}
    assert get(dynamodb, "b", "2") is not None
    assert get(dynamodb, "c", "3")["g"] == {"S": "g3"}


def test_a_committed_transaction_writes_everything(dynamodb: Any, speedups: DynamoSpeedups) -> None:
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"S": "2"}}}},
        ]
    )
    assert get(dynamodb, "new", "1") is not None
    assert get(dynamodb, "b", "2") is None


def test_uninstall_restores_moto() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    before = (DynamoDBBackend.transact_write_items, Table.query, Table.all_items)
    patch = DynamoSpeedups()
    patch.install()
    patch.uninstall()
    assert (DynamoDBBackend.transact_write_items, Table.query, Table.all_items) == before
    assert not hasattr(Table, "__deepcopy__")
