"""UpdateItem on an item that does not exist (issue 12).

An update that only removes attributes (REMOVE, DELETE from a set, or legacy AttributeUpdates
with DELETE) creates nothing and returns nothing, whatever ReturnValues asks for; an empty
update, or one that sets or adds something, creates the item.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import new_key

RETURN_VALUES = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]

REMOVING = {
    "REMOVE": {"UpdateExpression": "REMOVE a, b"},
    "REMOVE nested": {"UpdateExpression": "REMOVE a.b[1]"},
    "DELETE": {"UpdateExpression": "DELETE s :s", "ExpressionAttributeValues": {
        ":s": {"SS": ["x"]}}},
    "REMOVE and DELETE": {"UpdateExpression": "REMOVE a DELETE s :s",
                          "ExpressionAttributeValues": {":s": {"SS": ["x"]}}},
    "legacy DELETE": {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
    "legacy DELETE from a set": {"AttributeUpdates": {"s": {"Action": "DELETE",
                                                            "Value": {"SS": ["x"]}}}},
}


def get(client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(TableName=table, Key=key,
                                                  ConsistentRead=True).get("Item")
    return item


@pytest.mark.parametrize("returns", RETURN_VALUES)
@pytest.mark.parametrize("update", list(REMOVING))
def test_an_update_that_only_removes_creates_nothing(dynamodb: Any, table_hash: str,
                                                     update: str, returns: str) -> None:
    key = {"p": {"S": new_key()}}
    result = dynamodb.update_item(TableName=table_hash, Key=key, ReturnValues=returns,
                                  **REMOVING[update])
    assert "Attributes" not in result
    assert get(dynamodb, table_hash, key) is None


@pytest.mark.parametrize("returns", RETURN_VALUES)
def test_an_empty_update_creates_the_item(dynamodb: Any, table_hash: str, returns: str) -> None:
    key = {"p": {"S": new_key()}}
    result = dynamodb.update_item(TableName=table_hash, Key=key, ReturnValues=returns)
    assert result.get("Attributes") == (key if returns == "ALL_NEW" else None)
    assert get(dynamodb, table_hash, key) == key


@pytest.mark.parametrize("returns", RETURN_VALUES)
def test_an_update_that_sets_creates_the_item(dynamodb: Any, table_hash: str,
                                              returns: str) -> None:
    key = {"p": {"S": new_key()}}
    result = dynamodb.update_item(TableName=table_hash, Key=key, ReturnValues=returns,
                                  UpdateExpression="SET a = :v REMOVE b",
                                  ExpressionAttributeValues={":v": {"N": "1"}})
    expected = {"ALL_NEW": {**key, "a": {"N": "1"}}, "UPDATED_NEW": {"a": {"N": "1"}}}
    assert result.get("Attributes") == expected.get(returns)
    assert get(dynamodb, table_hash, key) == {**key, "a": {"N": "1"}}


def test_removing_from_an_existing_item_keeps_it(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}})
    result = dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="REMOVE a",
                                  ReturnValues="ALL_NEW")
    assert result["Attributes"] == key
    assert get(dynamodb, table_hash, key) == key
