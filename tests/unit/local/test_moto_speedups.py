"""The local stack's moto speed-ups change cost only: queries, transactions and queues answer the same."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from leadflow_local.moto_speedups import DynamoSpeedups, SqsSpeedups

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
        client.query(  # an index page backwards, then the next one: the order and the cursor
            TableName=TABLE,
            IndexName="GSI",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "g3"}},
            ScanIndexForward=False,
            Limit=2,
        ),
        client.query(
            TableName=TABLE,
            IndexName="GSI",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "g3"}},
            ScanIndexForward=False,
            Limit=2,
            ExclusiveStartKey={"pk": {"S": "b"}, "sk": {"S": "3"}, "g": {"S": "g3"}},
        ),
        client.query(
            TableName=TABLE,
            IndexName="GSI",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "nothing"}},
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


def by_index(client: Any, value: str) -> list[tuple[str, str]]:
    items = client.query(
        TableName=TABLE,
        IndexName="GSI",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": value}},
    )["Items"]
    return [(item["pk"]["S"], item["sk"]["S"]) for item in items]


def test_an_index_query_follows_every_kind_of_write(dynamodb: Any) -> None:
    speedups = DynamoSpeedups()
    speedups.install()
    assert by_index(dynamodb, "g2") == [("a", "2"), ("b", "2"), ("c", "2")]  # builds the index
    key = {"pk": {"S": "a"}, "sk": {"S": "2"}}
    dynamodb.update_item(  # moves an item to another value, in place
        TableName=TABLE, Key=key, UpdateExpression="SET g = :g", ExpressionAttributeValues={":g": {"S": "g3"}}
    )
    dynamodb.update_item(  # creates an item by updating it
        TableName=TABLE,
        Key={"pk": {"S": "d"}, "sk": {"S": "1"}},
        UpdateExpression="SET g = :g",
        ExpressionAttributeValues={":g": {"S": "g2"}},
    )
    dynamodb.update_item(  # takes an item out of the index
        TableName=TABLE, Key={"pk": {"S": "c"}, "sk": {"S": "3"}}, UpdateExpression="REMOVE g"
    )
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "b"}, "sk": {"S": "2"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "e"}, "sk": {"S": "1"}, "g": {"S": "g9"}})
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "f"}, "sk": {"S": "1"}, "g": {"S": "g2"}}}},
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET g = :g",
                    "ExpressionAttributeValues": {":g": {"S": "g9"}},
                }
            },
        ]
    )
    with pytest.raises(ClientError):  # a cancelled transaction leaves the index as it found it
        dynamodb.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": TABLE, "Key": key, "UpdateExpression": "REMOVE g"}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}, "g": {"S": "g3"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": {"pk": {"S": "h"}, "sk": {"S": "1"}, "g": {"S": "g3"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "e"}, "sk": {"S": "1"}}}},
            ]
        }
    )
    values = ("g1", "g2", "g3", "g9", "none")
    fast = [by_index(dynamodb, value) for value in values]
    speedups.uninstall()
    assert fast == [by_index(dynamodb, value) for value in values]  # moto's own answer, same data
    assert sorted(fast[values.index("g3")]) == [("a", "2"), ("a", "3"), ("b", "3"), ("h", "1")]


def test_uninstall_restores_moto() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    patched = ("transact_write_items", "update_item")
    before = [getattr(DynamoDBBackend, name) for name in patched]
    before_table = (Table.query, Table.all_items, Table.put_item)
    patch = DynamoSpeedups()
    patch.install()
    patch.uninstall()
    assert [getattr(DynamoDBBackend, name) for name in patched] == before
    assert (Table.query, Table.all_items, Table.put_item) == before_table
    assert not hasattr(Table, "__deepcopy__")


# ---------------------------------------------------------------- SQS


def sqs_story(client: Any) -> list[Any]:
    """A queue's life as the local stack lives it: sends, receives, deletes, timeouts, a dead letter."""
    dead = client.create_queue(QueueName="story-dlq")["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = client.create_queue(
        QueueName="story",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "2"})},
    )["QueueUrl"]
    told: list[Any] = []

    def counts() -> dict[str, str]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        return client.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]

    def receive(count: int, timeout: int = 30) -> list[dict[str, Any]]:
        return client.receive_message(QueueUrl=url, MaxNumberOfMessages=count, VisibilityTimeout=timeout).get(
            "Messages", []
        )

    for start in range(0, 30, 10):
        client.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)]
        )
    client.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    told.append(counts())
    first = receive(10)
    told.append([message["Body"] for message in first])
    told.append(counts())
    client.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(first[:5])
        ],
    )
    client.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])  # again: no error
    with pytest.raises(ClientError) as unknown:
        client.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    told.append(unknown.value.response["Error"]["Code"])
    told.append(counts())
    told.append([message["Body"] for message in receive(10)])  # the next ten; five still in flight
    for _ in range(2):  # received twice and never deleted: the third receive moves them to the DLQ
        for message in receive(10, timeout=0):
            told.append(("seen", message["Body"]))
    told.append([message["Body"] for message in receive(10, timeout=0)])
    told.append(counts())
    dead_messages = client.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
    told.append(sorted(message["Body"] for message in dead_messages))
    return told


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_sqs_answers_the_same_with_and_without(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        plain = sqs_story(boto3.client("sqs", region_name="us-east-1"))
    patch = SqsSpeedups()
    patch.install()
    try:
        with mock_aws():
            assert sqs_story(boto3.client("sqs", region_name="us-east-1")) == plain
    finally:
        patch.uninstall()
    assert plain[0] == {"ApproximateNumberOfMessages": "30", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert plain[3] == "ReceiptHandleIsInvalid"


def test_a_delete_racing_a_send_loses_no_message(sqs: Any) -> None:
    """The delete replaces the message list under the queue's lock, as a send appends under it."""
    patch = SqsSpeedups()
    patch.install()
    try:
        url = sqs.create_queue(QueueName="race")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": str(n)} for n in range(10)]
        )
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

        def send() -> None:
            for n in range(200):
                sqs.send_message(QueueUrl=url, MessageBody=f"late{n}")

        sender = threading.Thread(target=send)
        sender.start()
        for message in received:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        sender.join()
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "200"
    finally:
        patch.uninstall()
