"""Condition, filter and update expressions: DynamoDB's exact validation (issue 12).

A constant (from ExpressionAttributeValues) of a type an operator cannot use is a
ValidationException, checked before anything is read; the same type coming from the item only
makes the condition false.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, new_key

V1 = {":v": {"N": "1"}}



@pytest.fixture
def key() -> dict[str, Any]:
    return {"p": {"S": new_key()}}


def put_refused(client: Any, table: str, key: dict[str, Any], condition: str,
                values: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        client.put_item(TableName=table, Item={**key, "x": {"N": "1"}},
                        ConditionExpression=condition, ExpressionAttributeValues=values)
    return error_of(exc)


@pytest.mark.parametrize("condition, values, message", [
    ("x < :v", {":v": {"L": [{"N": "1"}]}},
     "Incorrect operand type for operator or function; operator or function: <, operand type: L"),
    (":v >= x", {":v": {"M": {}}},
     "Incorrect operand type for operator or function; operator or function: >=, operand type: M"),
    ("x <= :v", {":v": {"BOOL": True}},
     "Incorrect operand type for operator or function; operator or function: <=, operand type: "
     "BOOL"),
    ("x > :v", {":v": {"SS": ["a"]}},
     "Incorrect operand type for operator or function; operator or function: >, operand type: SS"),
    ("x BETWEEN :v AND :w", {":v": {"BOOL": False}, ":w": {"BOOL": True}},
     "Incorrect operand type for operator or function; operator or function: BETWEEN, operand "
     "type: BOOL"),
    (":v BETWEEN x AND y", {":v": {"NULL": True}},
     "Incorrect operand type for operator or function; operator or function: BETWEEN, operand "
     "type: NULL"),
])
def test_ordering_a_constant_of_an_unordered_type_is_refused(
        raw_dynamodb: Any, table_hash: str, key: dict[str, Any], condition: str,
        values: dict[str, Any], message: str) -> None:
    assert put_refused(raw_dynamodb, table_hash, key, condition, values) == (
        "ValidationException", "Invalid ConditionExpression: " + message)


def test_ordering_an_item_value_of_an_unordered_type_is_false(
        dynamodb: Any, table_hash: str, key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "l": {"L": [{"N": "1"}]}})
    for condition in ("l < :v", ":v > l", "l BETWEEN :v AND :v"):
        with pytest.raises(ClientError) as exc:
            dynamodb.put_item(TableName=table_hash, Item=key, ConditionExpression=condition,
                              ExpressionAttributeValues=V1)
        assert error_of(exc)[0] == "ConditionalCheckFailedException"


def test_filter_is_validated_even_when_nothing_is_read(raw_dynamodb: Any,
                                                        table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash, KeyConditionExpression="p = :k",
                           FilterExpression="x < :v",
                           ExpressionAttributeValues={":k": {"S": new_key()}, ":v": {"M": {}}})
    assert error_of(exc) == (
        "ValidationException",
        "Invalid FilterExpression: Incorrect operand type for operator or function; operator or "
        "function: <, operand type: M")


@pytest.mark.parametrize("condition", ["if_not_exists(x, :v) = :v", "x = list_append(x, :v)",
                                       "NOT if_not_exists(x, :v) < :v"])
def test_update_functions_are_not_allowed_in_a_condition(
        raw_dynamodb: Any, table_hash: str, key: dict[str, Any], condition: str) -> None:
    name = "list_append" if "list_append" in condition else "if_not_exists"
    assert put_refused(raw_dynamodb, table_hash, key, condition, V1) == (
        "ValidationException",
        "Invalid ConditionExpression: The function is not allowed in a condition expression; "
        f"function: {name}")


@pytest.mark.parametrize("condition", ["((x = :v))", "x = :v AND ((x = :v))",
                                       "NOT (((x = :v) OR x = :v))", "(((x = :v)))"])
def test_doubly_redundant_parentheses_are_refused(
        raw_dynamodb: Any, table_hash: str, key: dict[str, Any], condition: str) -> None:
    assert put_refused(raw_dynamodb, table_hash, key, condition, V1) == (
        "ValidationException", "Invalid ConditionExpression: The expression has redundant "
        "parentheses;")


def test_single_parentheses_are_accepted(dynamodb: Any, table_hash: str,
                                         key: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table_hash, Item={**key, "x": {"N": "1"}})
    dynamodb.put_item(TableName=table_hash, Item={**key, "x": {"N": "1"}},
                      ConditionExpression="(x = :v) AND ((x = :v) OR (x) = :v) AND ((x)) = :v",
                      ExpressionAttributeValues=V1)


def test_nested_list_append_is_refused(raw_dynamodb: Any, table_hash: str,
                                       key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key,
                                 UpdateExpression="SET l = list_append(list_append(:a, :a), :a)",
                                 ExpressionAttributeValues={":a": {"L": []}})
    assert error_of(exc) == (
        "ValidationException",
        "Invalid UpdateExpression: The function is not allowed to be used this way in an "
        "expression; function: list_append")


def test_if_not_exists_inside_list_append_is_accepted(dynamodb: Any, table_hash: str,
                                                      key: dict[str, Any]) -> None:
    result = dynamodb.update_item(
        TableName=table_hash, Key=key,
        UpdateExpression="SET l = list_append(if_not_exists(l, :a), :b)",
        ExpressionAttributeValues={":a": {"L": [{"S": "a"}]}, ":b": {"L": [{"S": "b"}]}},
        ReturnValues="UPDATED_NEW")
    assert result["Attributes"] == {"l": {"L": [{"S": "a"}, {"S": "b"}]}}


@pytest.mark.parametrize("update, values", [
    ("SET n = :a + :b", {":a": {"N": "1e50"}, ":b": {"N": "1"}}),
    ("SET n = :a - :b", {":a": {"N": "99999999999999999999999999999999999999"},
                         ":b": {"N": "-0.1"}}),
    ("ADD n :a", {":a": {"N": "0.000000000000000000000000000000000000001"}}),
])
def test_arithmetic_needing_more_than_38_digits_is_refused(
        raw_dynamodb: Any, table_hash: str, key: dict[str, Any], update: str,
        values: dict[str, Any]) -> None:
    raw_dynamodb.put_item(TableName=table_hash, Item={**key, "n": {"N": "1"}})
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression=update,
                                 ExpressionAttributeValues=values)
    assert error_of(exc) == (
        "ValidationException",
        "Number overflow. Attempting to store a number with magnitude larger than supported "
        "range")


def test_exact_arithmetic_of_38_digits_is_kept(dynamodb: Any, table_hash: str,
                                               key: dict[str, Any]) -> None:
    result = dynamodb.update_item(
        TableName=table_hash, Key=key, UpdateExpression="SET n = :a + :b",
        ExpressionAttributeValues={":a": {"N": "9999999999999999999999999999999999999"},
                                   ":b": {"N": "1e37"}}, ReturnValues="UPDATED_NEW")
    assert result["Attributes"]["n"] == {"N": "19999999999999999999999999999999999999"}


@pytest.mark.parametrize("request_", [
    {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"N": 123}}},
    {"UpdateExpression": "SET a = :g", "ConditionExpression": "a < :v",
     "ExpressionAttributeValues": {":g": {"N": "1"}, ":v": {"N": 123}}},
])
def test_a_json_number_is_a_serialization_error(raw_dynamodb: Any, table_hash: str,
                                                key: dict[str, Any],
                                                request_: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, **request_)
    assert error_of(exc)[0] == "SerializationException"


def test_a_function_name_starts_with_a_letter(raw_dynamodb: Any, table_hash: str,
                                              key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET a = _f(b)")
    assert error_of(exc) == ("ValidationException",
                             'Invalid UpdateExpression: Syntax error; token: "_", near: "= _"')


# size(...) is a number before any item is read, and DynamoDB checks the innermost function
# first: dynalite's test/scan.js (written against DynamoDB) pins these messages.
@pytest.mark.parametrize("condition, values, message", [
    ("size(size(a)) > :a", {":a": {"N": "1"}},
     "Incorrect operand type for operator or function; operator or function: size, operand "
     "type: N"),
    ("attribute_type(a, size(a)) and a=a and a=:a", {":a": {"N": "1"}},
     "Incorrect operand type for operator or function; operator or function: attribute_type, "
     "operand type: N"),
    ("begins_with(a, size(a)) and a=:a", {":a": {"N": "1"}},
     "Incorrect operand type for operator or function; operator or function: begins_with, "
     "operand type: N"),
    ("attribute_not_exists(size(:a))", {":a": {"N": "1"}},
     "Incorrect operand type for operator or function; operator or function: size, operand "
     "type: N"),
    ("attribute_not_exists(size(:a))", {":a": {"S": "1"}},
     "Operator or function requires a document path; operator or function: "
     "attribute_not_exists"),
    ("attribute_exists(size(a))", None,
     "Operator or function requires a document path; operator or function: attribute_exists"),
    ("a=a and whatever((:a)) > a", {":a": {"S": "1"}},
     "Invalid function name; function: whatever"),
])
def test_nested_functions_in_a_filter(raw_dynamodb: Any, table_hash: str, condition: str,
                                      values: dict[str, Any] | None, message: str) -> None:
    extra = {} if values is None else {"ExpressionAttributeValues": values}
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.scan(TableName=table_hash, FilterExpression=condition, **extra)
    assert error_of(exc) == ("ValidationException", "Invalid FilterExpression: " + message)
