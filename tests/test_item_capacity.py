"""ReturnConsumedCapacity on single-item operations."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import new_key


def test_get_item_capacity(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"S": "x" * 5000}})
    strong = dynamodb.get_item(TableName=table_hash, Key=key, ConsistentRead=True,
                               ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["TableName"] == table_hash
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 2  # 5 KB -> two 4 KB units
    weak = dynamodb.get_item(TableName=table_hash, Key=key, ReturnConsumedCapacity="TOTAL")
    assert weak["ConsumedCapacity"]["CapacityUnits"] == 1
    missing = dynamodb.get_item(TableName=table_hash, Key={"p": {"S": new_key()}},
                                ReturnConsumedCapacity="TOTAL")
    assert missing["ConsumedCapacity"]["CapacityUnits"] == 0.5
    assert "ConsumedCapacity" not in dynamodb.get_item(TableName=table_hash, Key=key)


def test_write_capacity(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    put = dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"S": "x" * 1500}},
                            ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"]["CapacityUnits"] == 2  # 1.5 KB -> two 1 KB units
    update = dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET w = :w",
                                  ExpressionAttributeValues={":w": {"S": "y"}},
                                  ConditionExpression="attribute_exists(p)",
                                  ReturnConsumedCapacity="INDEXES")
    assert update["ConsumedCapacity"]["CapacityUnits"] == 2
    assert update["ConsumedCapacity"]["Table"]["CapacityUnits"] == 2
    deleted = dynamodb.delete_item(TableName=table_hash, Key=key, ReturnValues="ALL_OLD",
                                   ReturnConsumedCapacity="TOTAL")
    assert deleted["ConsumedCapacity"]["CapacityUnits"] == 2


def test_invalid_capacity_mode(raw_dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(raw_dynamodb.exceptions.ClientError) as exc:
        raw_dynamodb.get_item(TableName=table_hash, Key={"p": {"S": "x"}},
                              ReturnConsumedCapacity="DUMMY")
    assert exc.value.response["Error"]["Code"] == "ValidationException"
