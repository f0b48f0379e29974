"""UpdateTable's GlobalSecondaryIndexUpdates on both backends: an index created online on a
table that keeps being written, deleted, re-created; and the refusals DynamoDB answers."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_table
from tests.test_indexes import index, query_all, refused, scan_all

ITEMS = 10_000
GROUPS = 12


def _wait_active(client: Any, table: str, name: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_table(TableName=table)["Table"]
        (found,) = [ix for ix in described.get("GlobalSecondaryIndexes", [])
                    if ix["IndexName"] == name]
        if found["IndexStatus"] == "ACTIVE":
            assert described["TableStatus"] == "ACTIVE"
            return found
        assert found["IndexStatus"] == "CREATING"
        assert found["Backfilling"] is True
        assert described["TableStatus"] == "UPDATING"
        assert time.monotonic() < deadline, "the index never became ACTIVE"
        time.sleep(0.5)


def _create_index(client: Any, table: str, name: str, attribute: str = "g",
                  kind: str = "S") -> dict[str, Any]:
    return client.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": kind}],
        GlobalSecondaryIndexUpdates=[{"Create": index(name, [attribute], projection="KEYS_ONLY")}])


def _group(i: int) -> dict[str, Any]:
    return {"S": f"g{i % GROUPS}"}


def test_online_creation_while_writing(endpoint: Any) -> None:
    client = endpoint.client()
    table = create_table(client, [("p", "HASH", "S")])
    try:
        requests = [{"PutRequest": {"Item": {"p": {"S": f"p{i}"}, "v": {"N": str(i)},
                                             **({"g": _group(i)} if i % 7 else {})}}}
                    for i in range(ITEMS)]
        batches = [requests[i:i + 25] for i in range(0, ITEMS, 25)]
        writers = [threading.Thread(target=lambda part=part: [  # type: ignore[misc]
            client.batch_write_item(RequestItems={table: b}) for b in part])
            for part in (batches[k::4] for k in range(4))]
        for w in writers:
            w.start()
        for w in writers:
            w.join()

        stop = threading.Event()
        failures: list[BaseException] = []

        def keep_writing() -> None:  # another client, changing index keys all along
            writer = endpoint.client()
            rng = random.Random(7)
            try:
                while not stop.is_set():
                    i = rng.randrange(ITEMS)
                    key = {"p": {"S": f"p{i}"}}
                    action = rng.randrange(4)
                    if action == 0:
                        writer.update_item(TableName=table, Key=key, UpdateExpression="SET g = :g",
                                           ExpressionAttributeValues={":g": _group(rng.randrange(99))})
                    elif action == 1:
                        writer.update_item(TableName=table, Key=key, UpdateExpression="REMOVE g")
                    elif action == 2:
                        writer.delete_item(TableName=table, Key=key)
                    else:
                        writer.put_item(TableName=table, Item={**key, "g": _group(i + 1)})
            except BaseException as error:
                failures.append(error)

        background = threading.Thread(target=keep_writing)
        background.start()
        try:
            created = _create_index(client, table, "by_g")["TableDescription"]
            (described,) = created["GlobalSecondaryIndexes"]
            assert described["IndexStatus"] == "CREATING"
            with pytest.raises(ClientError) as caught:
                client.query(TableName=table, IndexName="by_g", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": "g1"}})
            assert caught.value.response["Error"]["Message"] == \
                "Cannot read from backfilling global secondary index: by_g"
            _wait_active(client, table, "by_g")
            time.sleep(0.5)  # some writes after the index became ACTIVE too
        finally:
            stop.set()
            background.join()
        assert not failures, failures

        expected: dict[str, set[str]] = {}
        for item in scan_all(client, TableName=table):
            if "g" in item:
                expected.setdefault(item["g"]["S"], set()).add(item["p"]["S"])
        for group, members in expected.items():
            found = query_all(client, TableName=table, IndexName="by_g",
                              KeyConditionExpression="g = :g",
                              ExpressionAttributeValues={":g": {"S": group}})
            assert sorted(i["p"]["S"] for i in found) == sorted(members), group
        in_index = scan_all(client, TableName=table, IndexName="by_g")
        assert len(in_index) == sum(len(m) for m in expected.values())
    finally:
        client.delete_table(TableName=table)


def test_delete_and_recreate(dynamodb: Any) -> None:
    table = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        for i in range(20):
            dynamodb.put_item(TableName=table, Item={"p": {"S": f"p{i}"}, "g": {"S": "a"}})
        _create_index(dynamodb, table, "ixa")
        _wait_active(dynamodb, table, "ixa")
        assert len(query_all(dynamodb, TableName=table, IndexName="ixa",
                             KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": "a"}})) == 20
        deleted = dynamodb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "ixa"}}])["TableDescription"]
        assert "GlobalSecondaryIndexes" not in deleted
        assert deleted["AttributeDefinitions"] == [{"AttributeName": "p", "AttributeType": "S"}]
        assert refused(lambda: dynamodb.query(
            TableName=table, IndexName="ixa", KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "a"}})) == (
            "ValidationException", "The table does not have the specified index: ixa")
        for i in range(10):  # written while no index exists
            dynamodb.delete_item(TableName=table, Key={"p": {"S": f"p{i}"}})
        # Re-created as a number-keyed index on another attribute: nothing of the old one.
        for i in range(10, 15):
            dynamodb.update_item(TableName=table, Key={"p": {"S": f"p{i}"}},
                                 UpdateExpression="SET n = :n",
                                 ExpressionAttributeValues={":n": {"N": str(i)}})
        _create_index(dynamodb, table, "ixa", "n", "N")
        _wait_active(dynamodb, table, "ixa")
        found = query_all(dynamodb, TableName=table, IndexName="ixa",
                          KeyConditionExpression="n = :n",
                          ExpressionAttributeValues={":n": {"N": "12"}})
        assert [i["p"]["S"] for i in found] == ["p12"]
        assert len(scan_all(dynamodb, TableName=table, IndexName="ixa")) == 5
    finally:
        dynamodb.delete_table(TableName=table)


def test_update_refusals(dynamodb: Any) -> None:
    table = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        two = [{"Create": index("ax1", ["x"])}, {"Create": index("ax2", ["y"])}]
        code, _ = refused(lambda: dynamodb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=two, AttributeDefinitions=[
                {"AttributeName": "x", "AttributeType": "S"},
                {"AttributeName": "y", "AttributeType": "S"}]))
        assert code == "LimitExceededException"
        code, message = refused(lambda: dynamodb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Create": index("ax1", ["x"])}]))
        assert code == "ValidationException"
        assert "AttributeDefinitions" in message
        code, _ = refused(lambda: dynamodb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}]))
        assert code == "ResourceNotFoundException"
        _create_index(dynamodb, table, "dup")
        code, _ = refused(lambda: _create_index(dynamodb, table, "dup"))
        assert code == "ValidationException"
        _wait_active(dynamodb, table, "dup")
    finally:
        dynamodb.delete_table(TableName=table)
