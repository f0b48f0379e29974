"""The headers DynamoDB sends on every response, success or error, over HTTP and HTTPS.

The AWS SDK for Go v2 checks ``x-amz-crc32`` against the body of every response that has one;
the SDKs read ``x-amzn-RequestId`` into their response metadata (boto3's ``RequestId``, the
JavaScript SDK's ``$metadata.requestId``); none of them expects a framework's banner in
``Server``.
"""

from __future__ import annotations

import http.client
import ssl
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import orjson
import pytest

from alternator.config import Config

from conftest import Endpoint, ServerThread, signed_headers, sqlite_superuser

CONTENT_TYPE = "application/x-amz-json-1.0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, str]]:
    state = tmp_path_factory.mktemp("headers")
    db = str(state / "headers.db")
    secret = sqlite_superuser(db)
    thread = ServerThread(Config(port=0, https_port=0, sqlite_path=db,
                                 state_dir=str(state / "state")))
    thread.start()
    yield thread, secret
    thread.stop()


@pytest.fixture(params=["http", "https"])
def scheme_endpoint(request: pytest.FixtureRequest,
                    server: tuple[ServerThread, str]) -> tuple[Endpoint, Path]:
    thread, secret = server
    assert thread.server is not None and thread.server.tls is not None
    port = thread.server.port if request.param == "http" else thread.server.https_port
    ca = thread.server.tls.ca_bundle
    assert ca is not None
    return Endpoint("sqlite", f"{request.param}://127.0.0.1:{port}", "alternator", secret), ca


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _request(endpoint: Endpoint, ca: Path, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> Reply:
    host, port = endpoint.url.split("://")[1].split(":")
    connection: http.client.HTTPConnection
    if endpoint.url.startswith("https"):
        connection = http.client.HTTPSConnection(
            host, int(port), context=ssl.create_default_context(cafile=str(ca)), timeout=30)
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def _check_common(response: Reply) -> bytes:
    assert response.headers["x-amzn-RequestId"], response.headers
    assert response.headers["x-amz-crc32"] == str(zlib.crc32(response.body))
    server = response.headers.get("Server", "")
    assert "aiohttp" not in server.lower() and "python" not in server.lower(), server
    return response.body


def _dynamodb_post(endpoint: Endpoint, ca: Path, target: str,
                   payload: bytes) -> Reply:
    headers = signed_headers(endpoint, payload, {
        "Content-Type": CONTENT_TYPE, "X-Amz-Target": target})
    return _request(endpoint, ca, "POST", "/", payload, headers)


def test_success_headers(scheme_endpoint: tuple[Endpoint, Path]) -> None:
    response = _dynamodb_post(*scheme_endpoint, "DynamoDB_20120810.ListTables", b"{}")
    body = _check_common(response)
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert "TableNames" in orjson.loads(body)


def test_error_headers(scheme_endpoint: tuple[Endpoint, Path]) -> None:
    response = _dynamodb_post(*scheme_endpoint, "DynamoDB_20120810.DescribeTable",
                              b'{"TableName": "no_such_table_here"}')
    body = _check_common(response)
    assert response.status == 400
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert orjson.loads(body)["__type"].endswith("#ResourceNotFoundException")


def test_unsigned_request_headers(scheme_endpoint: tuple[Endpoint, Path]) -> None:
    response = _request(*scheme_endpoint, "POST", "/", b"{}", {
        "Content-Type": CONTENT_TYPE, "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    _check_common(response)
    assert response.status == 400
    assert response.headers["Content-Type"] == CONTENT_TYPE


def test_health_and_unknown_path_headers(scheme_endpoint: tuple[Endpoint, Path]) -> None:
    health = _request(*scheme_endpoint, "GET", "/")
    assert _check_common(health).startswith(b"healthy: ")
    missing = _request(*scheme_endpoint, "GET", "/no/such/path")
    _check_common(missing)
    assert missing.status == 404


def test_sdk_sees_request_id_on_success(scheme_endpoint: tuple[Endpoint, Path]) -> None:
    endpoint, ca = scheme_endpoint
    client = boto3.client("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1",
                          aws_access_key_id=endpoint.access_key,
                          aws_secret_access_key=endpoint.secret_key, verify=str(ca))
    assert client.list_tables()["ResponseMetadata"]["RequestId"]
