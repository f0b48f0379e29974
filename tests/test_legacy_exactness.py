"""Legacy (non-expression) parameters in shapes DynamoDB refuses (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, new_key

WITHOUT = "ConditionalOperator cannot be used without Filter or Expected"



def test_empty_attributes_to_get_is_refused(raw_dynamodb: Any, table_hash: str) -> None:
    message = ("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
               "constraint: Member must have length greater than or equal to 1")
    key = {"p": {"S": new_key()}}
    for call, kwargs in (
        (raw_dynamodb.get_item, {"Key": key}),
        (raw_dynamodb.scan, {}),
        (raw_dynamodb.query, {"KeyConditions": {"p": {"ComparisonOperator": "EQ",
                                                      "AttributeValueList": [key["p"]]}}}),
    ):
        with pytest.raises(ClientError) as exc:
            call(TableName=table_hash, AttributesToGet=[], **kwargs)
        assert error_of(exc) == ("ValidationException", message)


def test_empty_expected_is_no_condition(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    dynamodb.put_item(TableName=table_hash, Item=key, Expected={})
    dynamodb.update_item(TableName=table_hash, Key=key, Expected={},
                         AttributeUpdates={"a": {"Action": "PUT", "Value": {"N": "1"}}})
    assert dynamodb.get_item(TableName=table_hash, Key=key)["Item"]["a"] == {"N": "1"}


@pytest.mark.parametrize("expected", [None, {}])
@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem", "DeleteItem"])
def test_conditional_operator_without_expected_is_refused(
        raw_dynamodb: Any, table_hash: str, operation: str,
        expected: dict[str, Any] | None) -> None:
    key = {"p": {"S": new_key()}}
    extra: dict[str, Any] = {} if expected is None else {"Expected": expected}
    call = {"PutItem": lambda **kw: raw_dynamodb.put_item(Item=key, **kw),
            "UpdateItem": lambda **kw: raw_dynamodb.update_item(Key=key, **kw),
            "DeleteItem": lambda **kw: raw_dynamodb.delete_item(Key=key, **kw)}[operation]
    with pytest.raises(ClientError) as exc:
        call(TableName=table_hash, ConditionalOperator="OR", **extra)
    assert error_of(exc) == ("ValidationException", WITHOUT)


@pytest.mark.parametrize("scan_filter", [None, {}])
def test_conditional_operator_without_a_filter_is_refused(
        raw_dynamodb: Any, table_hash: str, scan_filter: dict[str, Any] | None) -> None:
    extra: dict[str, Any] = {} if scan_filter is None else {"ScanFilter": scan_filter}
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.scan(TableName=table_hash, ConditionalOperator="AND", **extra)
    assert error_of(exc) == ("ValidationException", WITHOUT)
    key = {"p": {"S": new_key()}}
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash, ConditionalOperator="AND",
                           KeyConditions={"p": {"ComparisonOperator": "EQ",
                                                "AttributeValueList": [key["p"]]}})
    assert error_of(exc) == ("ValidationException", WITHOUT)


@pytest.mark.parametrize("kwargs", [
    {"ProjectionExpression": "#a", "ExpressionAttributeNames": {"#a": 7}},
    {"KeyConditions": {"p": {"ComparisonOperator": 7, "AttributeValueList": [{"S": "k"}]}}},
    {"KeyConditions": {"p": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "k"}]}},
     "QueryFilter": {"a": {"ComparisonOperator": 7, "AttributeValueList": [{"N": "1"}]}}},
    {"KeyConditions": {"p": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": 1}]}}},
])
def test_a_json_number_where_a_string_belongs_is_a_serialization_error(
        raw_dynamodb: Any, table_hash: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        if "ProjectionExpression" in kwargs:
            raw_dynamodb.get_item(TableName=table_hash, Key={"p": {"S": "k"}}, **kwargs)
        else:
            raw_dynamodb.query(TableName=table_hash, **kwargs)
    assert error_of(exc)[0] == "SerializationException"


@pytest.mark.parametrize("spec", [
    {"Action": 7, "Value": {"N": "1"}},
])
def test_a_json_number_for_an_action_is_a_serialization_error(
        raw_dynamodb: Any, table_hash: str, spec: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key={"p": {"S": new_key()}},
                                 AttributeUpdates={"a": spec})
    assert error_of(exc)[0] == "SerializationException"
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.delete_item(TableName=table_hash, Key={"p": {"S": new_key()}},
                                 Expected={"a": {"ComparisonOperator": 7}})
    assert error_of(exc)[0] == "SerializationException"
