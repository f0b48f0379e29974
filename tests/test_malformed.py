"""Malformed requests get a 4xx from DynamoDB's error family, never a 500.

Each operation's request is taken from a valid template and one member at a time is replaced
by values of the wrong JSON shape. The templates name every member of every operation, the
legacy ones (AttributesToGet, AttributeUpdates, Expected, ...) included.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from conftest import Endpoint, signed_headers
from test_http import dynamodb_call
from test_http import request as http_request

WRONG_SHAPES: list[Any] = [None, 7, "text", True, [], {}, [1, "x"], {"x": 1}, {"S": 5},
                           [{"S": "x"}], {"k": {"Z": "1"}}]


def templates(table: str) -> dict[str, dict[str, Any]]:
    key = {"p": {"S": "k"}}
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"
    return {
        "PutItem": {"TableName": table, "Item": {**key, "a": {"N": "1"}},
                    "ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"N": "1"}},
                    "ReturnValues": "ALL_OLD", "Expected": None},
        "GetItem": {"TableName": table, "Key": key, "ProjectionExpression": "#a",
                    "ExpressionAttributeNames": {"#a": "a"}, "ConsistentRead": True,
                    "ReturnConsumedCapacity": "TOTAL"},
        "GetItem#legacy": {"TableName": table, "Key": key, "AttributesToGet": ["a"]},
        "PutItem#legacy": {"TableName": table, "Item": key,
                           "Expected": {"a": {"ComparisonOperator": "NULL"}},
                           "ConditionalOperator": "OR", "ReturnConsumedCapacity": "TOTAL",
                           "ReturnItemCollectionMetrics": "SIZE",
                           "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        "UpdateItem#legacy": {"TableName": table, "Key": key,
                              "AttributeUpdates": {"a": {"Action": "PUT", "Value": {"N": "1"}}},
                              "Expected": {"a": {"Value": {"N": "1"}, "Exists": True}},
                              "ReturnValues": "ALL_NEW"},
        "UpdateItem#condition": {"TableName": table, "Key": key,
                                 "UpdateExpression": "ADD #n :one",
                                 "ConditionExpression": "attribute_exists(#n) OR :one = :one",
                                 "ExpressionAttributeNames": {"#n": "n"},
                                 "ExpressionAttributeValues": {":one": {"N": "1"}},
                                 "ReturnConsumedCapacity": "INDEXES"},
        "Query#expressions": {"TableName": table, "KeyConditionExpression": "p = :k",
                              "FilterExpression": "#a > :v", "ProjectionExpression": "#a, p",
                              "ExpressionAttributeNames": {"#a": "a"},
                              "ExpressionAttributeValues": {":k": {"S": "k"}, ":v": {"N": "0"}},
                              "ScanIndexForward": False, "ConsistentRead": True,
                              "ReturnConsumedCapacity": "TOTAL"},
        "Scan#expressions": {"TableName": table, "FilterExpression": "attribute_exists(#a)",
                             "ProjectionExpression": "#a", "ExpressionAttributeNames": {"#a": "a"},
                             "Limit": 2, "ExclusiveStartKey": key, "ConsistentRead": True,
                             "Select": "SPECIFIC_ATTRIBUTES"},
        "BatchGetItem#legacy": {"RequestItems": {table: {"Keys": [key],
                                                          "AttributesToGet": ["a"]}},
                                "ReturnConsumedCapacity": "TOTAL"},
        "DescribeTable": {"TableName": table},
        "DescribeTimeToLive": {"TableName": table},
        "ListTagsOfResource": {"ResourceArn": f"arn:aws:dynamodb:us-east-1:000000000000:"
                                              f"table/{table}", "NextToken": "x"},
        "UntagResource": {"ResourceArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}",
                          "TagKeys": ["never"]},
        "UpdateItem": {"TableName": table, "Key": key, "UpdateExpression": "SET a = :v",
                       "ExpressionAttributeValues": {":v": {"N": "1"}},
                       "ReturnValues": "UPDATED_NEW"},
        "DeleteItem": {"TableName": table, "Key": key, "Expected": {"a": {"Exists": False}},
                       "ConditionalOperator": "AND"},
        "Query": {"TableName": table, "KeyConditions": {"p": {"ComparisonOperator": "EQ",
                                                              "AttributeValueList": [{"S": "k"}]}},
                  "QueryFilter": {"a": {"ComparisonOperator": "EQ",
                                        "AttributeValueList": [{"N": "1"}]}},
                  "Limit": 5, "ExclusiveStartKey": key, "Select": "ALL_ATTRIBUTES"},
        "Scan": {"TableName": table, "ScanFilter": {"a": {"ComparisonOperator": "NOT_NULL"}},
                 "Segment": 0, "TotalSegments": 2, "AttributesToGet": ["a"]},
        "BatchGetItem": {"RequestItems": {table: {"Keys": [key], "ConsistentRead": True}}},
        "BatchWriteItem": {"RequestItems": {table: [{"PutRequest": {"Item": key}},
                                                    {"DeleteRequest": {"Key": {"p": {"S": "z"}}}}]}},
        "CreateTable": {"TableName": "malformed_never_created", "BillingMode": "PAY_PER_REQUEST",
                        "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
                        "Tags": [{"Key": "k", "Value": "v"}]},
        "TagResource": {"ResourceArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}",
                        "Tags": [{"Key": "k", "Value": "v"}]},
        "UpdateTable": {"TableName": table, "BillingMode": "PAY_PER_REQUEST"},
        "ListTables": {"Limit": 3, "ExclusiveStartTableName": "abc"},
        "TransactWriteItems": {
            "TransactItems": [
                {"Put": {"TableName": table, "Item": key,
                         "ConditionExpression": "attribute_not_exists(#n)",
                         "ExpressionAttributeNames": {"#n": "n"},
                         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
                {"Update": {"TableName": table, "Key": {"p": {"S": "u"}},
                            "UpdateExpression": "SET a = :v",
                            "ExpressionAttributeValues": {":v": {"N": "1"}}}},
                {"Delete": {"TableName": table, "Key": {"p": {"S": "d"}}}},
                {"ConditionCheck": {"TableName": table, "Key": {"p": {"S": "c"}},
                                    "ConditionExpression": "attribute_not_exists(p)"}}],
            "ReturnConsumedCapacity": "TOTAL", "ClientRequestToken": "token",
            "ReturnItemCollectionMetrics": "NONE"},
        "TransactGetItems": {"TransactItems": [{"Get": {
            "TableName": table, "Key": key, "ProjectionExpression": "#a",
            "ExpressionAttributeNames": {"#a": "a"}}}], "ReturnConsumedCapacity": "TOTAL"},
        f"{STREAMS}ListStreams": {"TableName": table, "Limit": 5,
                                  "ExclusiveStartStreamArn": f"{arn}/stream/x"},
        f"{STREAMS}DescribeStream": {"StreamArn": f"{arn}/stream/x", "Limit": 5,
                                     "ExclusiveStartShardId": "shardId-1"},
        f"{STREAMS}GetShardIterator": {"StreamArn": f"{arn}/stream/x", "ShardId": "shardId-1",
                                       "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                                       "SequenceNumber": "1"},
        f"{STREAMS}GetRecords": {"ShardIterator": "WzFd", "Limit": 5},
    }


STREAMS = "DynamoDBStreams_20120810."


def amz_target(operation: str) -> str:
    """The X-Amz-Target of a template's operation (``Name#variant``)."""
    name = operation.split("#")[0]
    return name if name.startswith(STREAMS) else f"DynamoDB_20120810.{name}"


def cases() -> list[tuple[str, str, int]]:
    out = []
    for operation, template in templates("t").items():
        for member in template:
            for i in range(len(WRONG_SHAPES)):
                out.append((operation, member, i))
    return out


@pytest.mark.parametrize("operation, member, shape", cases())
def test_wrong_shapes_are_client_errors(endpoint: Endpoint, table_hash: str, operation: str,
                                        member: str, shape: int) -> None:
    request = templates(table_hash)[operation]
    request[member] = WRONG_SHAPES[shape]
    status, body = dynamodb_call(endpoint, amz_target(operation), json.dumps(request).encode())
    assert status < 500, body
    if status >= 400:
        assert "__type" in body and ("message" in body or "Message" in body)


def _nested_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path below the top level of a request member (dict keys and list indexes)."""
    out: list[tuple[Any, ...]] = []
    children = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else [])
    for key, child in children:
        out.append((*path, key))
        out += _nested_paths(child, (*path, key))
    return out


def nested_cases() -> list[tuple[str, tuple[Any, ...], int]]:
    out = []
    for operation, template in templates("t").items():
        for member, value in template.items():
            for path in _nested_paths(value):
                for i in (0, 1, 2, 4, 7):  # None, a number, a string, [], {"x": 1}
                    out.append((operation, (member, *path), i))
    return out


@pytest.mark.parametrize("operation, path, shape", nested_cases())
def test_wrong_nested_shapes_are_client_errors(endpoint: Endpoint, table_hash: str,
                                               operation: str, path: tuple[Any, ...],
                                               shape: int) -> None:
    request = templates(table_hash)[operation]
    target: Any = request
    for step in path[:-1]:
        target = target[step if not isinstance(target, dict) or step in target
                        else table_hash if step == "t" else step]
    last = path[-1]
    if isinstance(target, dict) and last == "t":
        last = table_hash
    target[last] = WRONG_SHAPES[shape]
    status, body = dynamodb_call(endpoint, amz_target(operation), json.dumps(request).encode())
    assert status < 500, (path, body)


# DynamoDB answers a body that is not JSON with a bare __type and no message member at all:
# dynalite's test/connection.js (written against DynamoDB) pins this body and its CRC32.
BARE_SERIALIZATION = b'{"__type":"com.amazon.coral.service#SerializationException"}'


@pytest.mark.parametrize("payload", [b"hi", b"{not json", b'{"TableName": "t", "Limit": 5',
                                     b"\xff\xfe"])
@pytest.mark.parametrize("operation", ["ListTables", "PutItem"])
def test_a_body_that_is_not_json_is_a_bare_serialization_error(
        endpoint: Endpoint, operation: str, payload: bytes) -> None:
    headers = signed_headers(endpoint, payload, {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
    status, body = http_request(endpoint, "POST", "/", payload, headers)
    assert status == 400
    assert body == BARE_SERIALIZATION
    assert zlib.crc32(body) == 3948637019
