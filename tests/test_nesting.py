"""Deep nesting never reaches a recursion limit (issue 12): from 10 to 100,000 levels, in
expressions and in the JSON of the request body, the answer is a 4xx, never a 500.

Expressions: parentheses, NOTs and nested function calls are bounded by the parser
(``MAX_PAREN_DEPTH``); past 4 KB an expression is refused for its size. JSON: a body nested
deeper than the JSON reader accepts is a SerializationException; nested AttributeValues deeper
than DynamoDB's 32 levels are a ValidationException.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Endpoint
from test_http import dynamodb_call, error_code

LEVELS = [10, 50, 101, 500, 1000, 5000, 20_000, 100_000]


def condition_shapes(depth: int) -> dict[str, str]:
    return {
        "parentheses": "(" * depth + "a = :v" + ")" * depth,
        "operand parentheses": "(" * depth + "a" + ")" * depth + " = :v",
        "NOT": "NOT " * depth + "a = :v",
        "NOT in parentheses": "(NOT " * depth + "a = :v" + ")" * depth,
        "size": "size(" * depth + "a" + ")" * depth + " = :v",
        "AND chain": " AND ".join(["a = :v"] * depth),
    }


def call(endpoint: Endpoint, operation: str, request: dict[str, Any] | bytes,
         ) -> tuple[int, dict[str, Any]]:
    body = request if isinstance(request, bytes) else json.dumps(request).encode()
    return dynamodb_call(endpoint, f"DynamoDB_20120810.{operation}", body)


@pytest.mark.parametrize("depth", LEVELS)
@pytest.mark.parametrize("shape", list(condition_shapes(1)))
def test_deep_conditions_are_client_errors(endpoint: Endpoint, table_hash: str, depth: int,
                                           shape: str) -> None:
    condition = condition_shapes(depth)[shape]
    for operation, request in (
        ("PutItem", {"TableName": table_hash, "Item": {"p": {"S": "deep"}},
                     "ConditionExpression": condition}),
        ("Scan", {"TableName": table_hash, "FilterExpression": condition}),
    ):
        request["ExpressionAttributeValues"] = {":v": {"N": "1"}}
        status, body = call(endpoint, operation, request)
        assert status < 500, (operation, body)
        if status >= 400:
            assert error_code(body) in ("ValidationException",
                                        "ConditionalCheckFailedException"), body


@pytest.mark.parametrize("depth", LEVELS)
def test_deep_update_expressions_are_client_errors(endpoint: Endpoint, table_hash: str,
                                                   depth: int) -> None:
    for update in ("SET a = " + "if_not_exists(a, " * depth + ":v" + ")" * depth,
                   "SET a = " + "list_append(" * depth + ":l" + ", :l)" * depth):
        status, body = call(endpoint, "UpdateItem", {
            "TableName": table_hash, "Key": {"p": {"S": "deep"}}, "UpdateExpression": update,
            "ExpressionAttributeValues": {":v": {"N": "1"}, ":l": {"L": []}}})
        assert status < 500, body
        if status >= 400:
            assert error_code(body) == "ValidationException", body


@pytest.mark.parametrize("depth", LEVELS)
def test_deep_json_bodies_are_client_errors(endpoint: Endpoint, table_hash: str,
                                            depth: int) -> None:
    head = '{"TableName": "' + table_hash + '", "Item": {"p": {"S": "deep"}'
    bodies = {
        "map value": head + ', "v": ' + '{"M": {"a": ' * depth + '{"N": "1"}' + "}}" * depth
        + "}}",
        "list value": head + ', "v": ' + '{"L": [' * depth + '{"N": "1"}' + "]}" * depth
        + "}}",
        "bare arrays": head + '}, "X": ' + "[" * depth + "]" * depth + "}",
    }
    for what, body in bodies.items():
        status, answer = call(endpoint, "PutItem", body.encode())
        assert status < 500, (what, answer)
        if depth > 32 and what != "bare arrays":
            assert status == 400, (what, answer)
            assert error_code(answer) in ("ValidationException", "SerializationException"), answer
