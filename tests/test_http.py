"""The HTTP layer, with plain HTTP requests: health, discovery, protocol errors."""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from typing import Any
from urllib.parse import urlparse

import pytest

from conftest import Endpoint, signed_headers


def request(endpoint: Endpoint, method: str, path: str, body: bytes = b"",
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    url = urlparse(endpoint.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def dynamodb_call(endpoint: Endpoint, target: str | None, body: bytes,
                  headers: dict[str, str] | None = None, sign: bool = True,
                  ) -> tuple[int, dict[str, Any]]:
    """POST a DynamoDB request, signed with SigV4 over exactly the bytes sent."""
    all_headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        all_headers["X-Amz-Target"] = target
    all_headers.update(headers or {})
    if sign:
        all_headers = signed_headers(endpoint, body, all_headers)
    status, data = request(endpoint, "POST", "/", body, all_headers)
    # TagResource and UntagResource answer an empty body.
    return status, json.loads(data) if data else {}


def error_code(body: dict[str, Any]) -> str:
    return str(body["__type"]).rsplit("#", 1)[-1]


def test_health(endpoint: Endpoint) -> None:
    url = urlparse(endpoint.url)
    status, body = request(endpoint, "GET", "/")
    assert status == 200
    assert body.decode() == f"healthy: {url.hostname}:{url.port}"


def test_localnodes_lists_this_node(endpoint: Endpoint) -> None:
    status, body = request(endpoint, "GET", "/localnodes")
    assert status == 200
    nodes = json.loads(body)
    assert nodes == ["127.0.0.1"]


@pytest.mark.parametrize("query", ["?dc=nosuchdc", "?rack=nosuchrack", "?dc=nosuchdc&rack=rack1"])
def test_localnodes_unknown_dc_or_rack_is_empty(endpoint: Endpoint, query: str) -> None:
    status, body = request(endpoint, "GET", "/localnodes" + query)
    assert status == 200
    assert json.loads(body) == []


def test_localnodes_named_local_dc(endpoint: Endpoint) -> None:
    status, body = request(endpoint, "GET", "/localnodes?dc=datacenter1&rack=rack1")
    assert status == 200
    assert json.loads(body) == ["127.0.0.1"]


def test_unknown_operation(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.NoSuchThing", b"{}")
    assert status == 400
    assert error_code(body) == "UnknownOperationException"


def test_missing_target(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, None, b"{}")
    assert status == 400
    assert error_code(body) == "UnknownOperationException"


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_body_that_is_not_a_json_object(endpoint: Endpoint, payload: bytes) -> None:
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.ListTables", payload)
    assert status == 400
    assert error_code(body) == "SerializationException"


def test_gzip_request_body(endpoint: Endpoint) -> None:
    payload = gzip.compress(json.dumps({"Limit": 5}).encode())
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.ListTables", payload,
                                 {"Content-Encoding": "gzip"})
    assert status == 200, body
    assert "TableNames" in body


def test_deflate_request_body(endpoint: Endpoint) -> None:
    payload = zlib.compress(json.dumps({"Limit": 5}).encode())
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.ListTables", payload,
                                 {"Content-Encoding": "deflate"})
    assert status == 200, body
    assert "TableNames" in body


def test_corrupt_gzip_body(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.ListTables", b"not gzip",
                                 {"Content-Encoding": "gzip"})
    assert status == 400
    assert error_code(body) == "SerializationException"


def test_request_over_16mb_is_refused(endpoint: Endpoint) -> None:
    payload = b'{"TableName": "' + b"x" * (16 * 1024 * 1024) + b'"}'
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.DescribeTable", payload)
    assert status == 413
    assert "16777216" in str(body)


def test_gzip_bomb_is_refused(endpoint: Endpoint) -> None:
    payload = gzip.compress(b'{"TableName": "' + b"x" * (17 * 1024 * 1024) + b'"}')
    status, _body = dynamodb_call(endpoint, "DynamoDB_20120810.DescribeTable", payload,
                                 {"Content-Encoding": "gzip"})
    assert status == 413


def test_missing_table_name_is_validation_error(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.DescribeTable", b"{}")
    assert status == 400
    assert error_code(body) == "ValidationException"
    assert body["message"] == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_wrongly_typed_field_is_serialization_error(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, "DynamoDB_20120810.DescribeTable",
                                 b'{"TableName": 17}')
    assert status == 400
    assert error_code(body) == "SerializationException"
