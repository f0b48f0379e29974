"""Expressions through the operations that take them, on every backend."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, new_key


@pytest.fixture
def key() -> dict[str, Any]:
    return {"p": {"S": new_key()}}


# --- ConditionExpression ------------------------------------------------------------------------


def test_put_if_not_exists(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    cond = "attribute_not_exists(p)"
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "1"}}, ConditionExpression=cond)
    with pytest.raises(ClientError) as exc:
        dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "2"}},
                          ConditionExpression=cond)
    assert error_of(exc) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert "Item" not in exc.value.response
    got = dynamodb.get_item(TableName=table_hash, Key=key, ConsistentRead=True)["Item"]
    assert got["v"] == {"N": "1"}


def test_condition_failure_returns_old_item(dynamodb: Any, table_hash: str,
                                            key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "1"}})
    with pytest.raises(ClientError) as exc:
        dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "2"}},
                          ConditionExpression="v = :two",
                          ExpressionAttributeValues={":two": {"N": "2"}},
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert exc.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert exc.value.response["Item"] == {**key, "v": {"N": "1"}}


def test_conditional_delete(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"S": "keep"}})
    with pytest.raises(ClientError) as exc:
        dynamodb.delete_item(TableName=table_hash, Key=key, ConditionExpression="v = :x",
                             ExpressionAttributeValues={":x": {"S": "other"}})
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    dynamodb.delete_item(TableName=table_hash, Key=key, ConditionExpression="v = :x",
                         ExpressionAttributeValues={":x": {"S": "keep"}})
    assert "Item" not in dynamodb.get_item(TableName=table_hash, Key=key, ConsistentRead=True)


def test_condition_on_missing_item(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.delete_item(TableName=table_hash, Key=key, ConditionExpression="attribute_exists(p)")
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    dynamodb.delete_item(TableName=table_hash, Key=key,
                         ConditionExpression="attribute_not_exists(p)")


@pytest.mark.parametrize("condition, values, holds", [
    ("a < :v", {":v": {"N": "10"}}, True),
    ("a BETWEEN :lo AND :hi", {":lo": {"N": "1"}, ":hi": {"N": "5"}}, True),
    ("a IN (:x, :y)", {":x": {"N": "4"}, ":y": {"N": "3"}}, True),
    ("begins_with(s, :p)", {":p": {"S": "hel"}}, True),
    ("contains(l, :e)", {":e": {"S": "b"}}, True),
    ("size(l) = :n", {":n": {"N": "2"}}, True),
    ("attribute_type(m, :t)", {":t": {"S": "M"}}, True),
    ("m.nums[1] = :v", {":v": {"N": "20"}}, True),
    ("NOT a = :v OR s = :s", {":v": {"N": "3"}, ":s": {"S": "nope"}}, False),
    ("a = :s", {":s": {"S": "3"}}, False),  # different types are never equal
    ("a <> :s", {":s": {"S": "3"}}, True),
    ("absent < :v", {":v": {"N": "1"}}, False),
])
def test_condition_semantics(dynamodb: Any, table_hash: str, key: dict[str, Any], condition: str,
                             values: dict[str, Any], holds: bool) -> None:
    item = {**key, "a": {"N": "3"}, "s": {"S": "hello"}, "l": {"L": [{"S": "a"}, {"S": "b"}]},
            "m": {"M": {"nums": {"L": [{"N": "10"}, {"N": "20"}]}}}}
    dynamodb.put_item(TableName=table_hash, Item=item)
    try:
        dynamodb.put_item(TableName=table_hash, Item={**item, "written": {"BOOL": True}},
                          ConditionExpression=condition, ExpressionAttributeValues=values)
        assert holds
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        assert not holds


def test_legacy_expected(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "1"}})
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "2"}},
                      Expected={"v": {"Value": {"N": "1"}}})
    with pytest.raises(ClientError) as exc:
        dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "3"}},
                          Expected={"v": {"ComparisonOperator": "GT",
                                          "AttributeValueList": [{"N": "5"}]}})
    assert error_of(exc)[0] == "ConditionalCheckFailedException"


# --- errors: eager validation, even on an empty table ---------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"ConditionExpression": "a = :v"},
     "Invalid ConditionExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :v"),
    ({"ConditionExpression": "a = :v",
      "ExpressionAttributeValues": {":v": {"N": "1"}, ":unused": {"N": "2"}}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"),
    ({"ConditionExpression": "#n = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Invalid ConditionExpression: An expression attribute name used in the document path is "
     "not defined; attribute name: #n"),
    ({"ConditionExpression": "name = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"),
    ({"ConditionExpression": "a = :v", "Expected": {"a": {"Exists": False}},
      "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"),
    ({"ConditionExpression": "a = :v", "ExpressionAttributeValues": {}},
     "ExpressionAttributeValues must not be empty"),
])
def test_put_expression_errors(raw_dynamodb: Any, table_hash: str, kwargs: dict[str, Any],
                               message: str) -> None:
    key = {"p": {"S": new_key()}}
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.put_item(TableName=table_hash, Item=key, **kwargs)
    assert error_of(exc) == ("ValidationException", message)
    assert "Item" not in raw_dynamodb.get_item(TableName=table_hash, Key=key)


def test_syntax_error(raw_dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.put_item(TableName=table_hash, Item={"p": {"S": new_key()}},
                              ConditionExpression="a = = b")
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message.startswith("Invalid ConditionExpression: Syntax error; token: ")


# --- UpdateItem -----------------------------------------------------------------------------------


def get(dynamodb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(TableName=table, Key=key,
                                                    ConsistentRead=True).get("Item")
    return item


def test_update_creates_item(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET a = :v",
                         ExpressionAttributeValues={":v": {"S": "x"}})
    assert get(dynamodb, table_hash, key) == {**key, "a": {"S": "x"}}


def test_update_without_expression_creates_key_only_item(dynamodb: Any, table_hash: str,
                                                          key: dict[str, Any]) -> None:
    dynamodb.update_item(TableName=table_hash, Key=key)
    assert get(dynamodb, table_hash, key) == key


def test_update_keeps_other_attributes(dynamodb: Any, table_hash: str,
                                       key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}, "b": {"N": "2"},
                                                  "c": {"N": "3"}})
    dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET a = :v REMOVE c",
                         ExpressionAttributeValues={":v": {"N": "10"}})
    assert get(dynamodb, table_hash, key) == {**key, "a": {"N": "10"}, "b": {"N": "2"}}


def test_update_arithmetic_and_functions(dynamodb: Any, table_hash: str,
                                         key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "n": {"N": "5"},
                                                  "l": {"L": [{"N": "1"}]}})
    result = dynamodb.update_item(
        TableName=table_hash, Key=key,
        UpdateExpression="SET n = n + :d, l = list_append(l, :more), "
                         "fresh = if_not_exists(fresh, :zero), m = :m ADD hits :d, tags :tags",
        ExpressionAttributeValues={":d": {"N": "2"}, ":more": {"L": [{"N": "2"}]},
                                   ":zero": {"N": "0"}, ":m": {"M": {"k": {"S": "v"}}},
                                   ":tags": {"SS": ["x", "y"]}},
        ReturnValues="ALL_NEW",
    )
    new = result["Attributes"]
    assert new["n"] == {"N": "7"}
    assert new["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert new["fresh"] == {"N": "0"}
    assert new["hits"] == {"N": "2"}
    assert sorted(new["tags"]["SS"]) == ["x", "y"]
    dynamodb.update_item(TableName=table_hash, Key=key,
                         UpdateExpression="SET m.k2 = :v, l[0] = :v DELETE tags :x",
                         ExpressionAttributeValues={":v": {"S": "new"}, ":x": {"SS": ["x"]}})
    item = get(dynamodb, table_hash, key)
    assert item is not None
    assert item["m"] == {"M": {"k": {"S": "v"}, "k2": {"S": "new"}}}
    assert item["l"] == {"L": [{"S": "new"}, {"N": "2"}]}
    assert item["tags"] == {"SS": ["y"]}


@pytest.mark.parametrize("returns, expected", [
    ("NONE", None),
    ("ALL_OLD", {"a": {"N": "1"}, "b": {"N": "2"}}),
    ("ALL_NEW", {"a": {"N": "5"}, "b": {"N": "2"}}),
    ("UPDATED_OLD", {"a": {"N": "1"}}),
    ("UPDATED_NEW", {"a": {"N": "5"}}),
])
def test_update_return_values(dynamodb: Any, table_hash: str, key: dict[str, Any], returns: str,
                              expected: dict[str, Any] | None) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}, "b": {"N": "2"}})
    result = dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET a = :v",
                                  ExpressionAttributeValues={":v": {"N": "5"}},
                                  ReturnValues=returns)
    if expected is None:
        assert "Attributes" not in result
    else:
        whole = returns.startswith("ALL")
        assert result["Attributes"] == ({**key, **expected} if whole else expected)


def test_conditional_update(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"N": "1"}})
    dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="ADD v :one",
                         ConditionExpression="v = :old",
                         ExpressionAttributeValues={":one": {"N": "1"}, ":old": {"N": "1"}})
    with pytest.raises(ClientError) as exc:
        dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="ADD v :one",
                             ConditionExpression="v = :old",
                             ExpressionAttributeValues={":one": {"N": "1"}, ":old": {"N": "1"}})
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    assert get(dynamodb, table_hash, key) == {**key, "v": {"N": "2"}}


def test_legacy_attribute_updates(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.update_item(TableName=table_hash, Key=key, AttributeUpdates={
        "a": {"Action": "PUT", "Value": {"S": "x"}},
        "n": {"Action": "ADD", "Value": {"N": "3"}},
    })
    assert get(dynamodb, table_hash, key) == {**key, "a": {"S": "x"}, "n": {"N": "3"}}


@pytest.mark.parametrize("expression, values, message", [
    ("SET p = :v", {":v": {"S": "x"}},
     "One or more parameter values were invalid: Cannot update attribute p. This attribute is "
     "part of the key"),
    ("SET a = :v, a = :v", {":v": {"S": "x"}},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [a], path two: [a]"),
    ("SET a = :v SET b = :v", {":v": {"S": "x"}},
     'Invalid UpdateExpression: The "SET" section can only be used once in an update '
     "expression;"),
])
def test_update_expression_errors(raw_dynamodb: Any, table_hash: str, expression: str,
                                  values: dict[str, Any], message: str) -> None:
    key = {"p": {"S": new_key()}}
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression=expression,
                                 ExpressionAttributeValues=values)
    assert error_of(exc) == ("ValidationException", message)
    assert "Item" not in raw_dynamodb.get_item(TableName=table_hash, Key=key)


def test_update_type_error_keeps_item(raw_dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    raw_dynamodb.put_item(TableName=table_hash, Item={**key, "s": {"S": "text"}})
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET s = s + :n",
                                 ExpressionAttributeValues={":n": {"N": "1"}})
    assert error_of(exc)[0] == "ValidationException"
    assert raw_dynamodb.get_item(TableName=table_hash, Key=key)["Item"] == {**key,
                                                                            "s": {"S": "text"}}


def test_number_overflow_after_arithmetic(raw_dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    raw_dynamodb.put_item(TableName=table_hash, Item={**key, "n": {"N": "9.9e125"}})
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET n = n + n")
    assert error_of(exc)[0] == "ValidationException"
    assert "overflow" in error_of(exc)[1].lower()


# --- ProjectionExpression -------------------------------------------------------------------------


def test_projection(dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={
        **key, "a": {"N": "1"}, "b": {"N": "2"},
        "m": {"M": {"x": {"S": "1"}, "y": {"S": "2"}}},
        "l": {"L": [{"S": "zero"}, {"S": "one"}, {"S": "two"}]}})
    got = dynamodb.get_item(TableName=table_hash, Key=key,
                            ProjectionExpression="a, m.y, l[2], #missing",
                            ExpressionAttributeNames={"#missing": "nothing"})["Item"]
    assert got == {"a": {"N": "1"}, "m": {"M": {"y": {"S": "2"}}}, "l": {"L": [{"S": "two"}]}}


def test_projection_unused_name(raw_dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.get_item(TableName=table_hash, Key={"p": {"S": "x"}},
                              ProjectionExpression="a",
                              ExpressionAttributeNames={"#unused": "b"})
    assert error_of(exc) == ("ValidationException",
                             "Value provided in ExpressionAttributeNames unused in expressions: "
                             "keys: {#unused}")
