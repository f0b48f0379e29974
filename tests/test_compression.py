"""Compressed responses (alternator/http/compression.py): gzip and deflate by Accept-Encoding,
only from the size threshold up, streamed when large; ``x-amz-crc32`` is the CRC32 of the bytes
sent. A server of its own, whose run-time settings the tests change, as the live configuration
table would (alternator/settings.py).
"""

from __future__ import annotations

import gzip
import http.client
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from alternator.http.compression import STREAM_ABOVE
from alternator.server import STATE
from alternator.settings import Settings

from conftest import Endpoint, ServerThread, create_table, own_sqlite_server, signed_headers

CONTENT_TYPE = "application/x-amz-json-1.0"
BIG = "x" * 6000  # a GetItem answer above the 4096-byte threshold
INFLATE: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.decompress,
                                                 "deflate": zlib.decompress}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, Endpoint]]:
    with own_sqlite_server(str(tmp_path_factory.mktemp("compression"))) as server:
        yield server


@pytest.fixture()
def settings(server: tuple[ServerThread, Endpoint]) -> Iterator[Settings]:
    """The server's run-time settings, put back as they started after the test."""
    thread, _ = server
    assert thread.server is not None
    live = thread.server.runner.app[STATE].settings
    saved = Settings(**{name: getattr(live, name) for name in Settings.__slots__})
    yield live
    for name in Settings.__slots__:
        setattr(live, name, getattr(saved, name))


@pytest.fixture(scope="module")
def endpoint(server: tuple[ServerThread, Endpoint]) -> Endpoint:
    return server[1]


@pytest.fixture(scope="module")
def table(endpoint: Endpoint) -> Iterator[str]:
    client = endpoint.client()
    name = create_table(client, [("p", "HASH", "S"), ("c", "RANGE", "N")])
    client.put_item(TableName=name, Item={"p": {"S": "big"}, "c": {"N": "0"}, "x": {"S": BIG}})
    client.put_item(TableName=name, Item={"p": {"S": "small"}, "c": {"N": "0"}})
    # A partition whose Query page is larger than STREAM_ABOVE, and not very compressible.
    import os

    for c in range(40):
        client.put_item(TableName=name, Item={"p": {"S": "many"}, "c": {"N": str(c)},
                                              "x": {"S": os.urandom(5000).hex()}})
    yield name
    client.delete_table(TableName=name)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes  # the body as received, compressed if it was


def post(endpoint: Endpoint, operation: str, payload: dict[str, Any],
         extra: list[tuple[str, str]] | None = None) -> Reply:
    """A signed request with ``extra`` headers added after signing (so any of them may
    repeat)."""
    body = orjson.dumps(payload)
    headers = signed_headers(endpoint, body, {"Content-Type": CONTENT_TYPE,
                                              "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
    host, port = endpoint.url.split("://")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/", skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    for name, value in extra or []:
        connection.putheader(name, value)
    try:
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def get_item(endpoint: Endpoint, table: str, key: str, *accept: str) -> tuple[Reply, bytes]:
    response = post(endpoint, "GetItem", {"TableName": table,
                                          "Key": {"p": {"S": key}, "c": {"N": "0"}}},
                    [("Accept-Encoding", value) for value in accept])
    return response, response.raw


def decoded(response: Reply, raw: bytes) -> dict[str, Any]:
    coding = response.headers.get("Content-Encoding")
    result: dict[str, Any] = orjson.loads(INFLATE[coding](raw) if coding else raw)
    return result


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_large_response_is_compressed(endpoint: Endpoint, table: str, coding: str) -> None:
    response, raw = get_item(endpoint, table, "big", coding)
    assert response.status == 200
    assert response.headers["Content-Encoding"] == coding
    assert response.headers["Content-Length"] == str(len(raw))
    # The CRC32 of the bytes as sent, compressed: what DynamoDB sends and SDKs check.
    assert response.headers["x-amz-crc32"] == str(zlib.crc32(raw))
    assert len(raw) < 500
    assert decoded(response, raw)["Item"]["x"] == {"S": BIG}


@pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0", "*;q=0"])
def test_not_compressed_unless_accepted(endpoint: Endpoint, table: str,
                                        accept: str | None) -> None:
    response, raw = get_item(endpoint, table, "big", *([accept] if accept else []))
    assert "Content-Encoding" not in response.headers
    assert response.headers["x-amz-crc32"] == str(zlib.crc32(raw))
    assert orjson.loads(raw)["Item"]["x"] == {"S": BIG}


@pytest.mark.parametrize(("accept", "coding"), [
    ("gzip;q=0.5, deflate;q=0.8", "deflate"),
    ("*", "gzip"),
    ("*, gzip;q=0.5", "deflate"),
    ("br, identity, deflate, gzip", "deflate"),
])
def test_quality_values(endpoint: Endpoint, table: str, accept: str, coding: str) -> None:
    response, raw = get_item(endpoint, table, "big", accept)
    assert response.headers.get("Content-Encoding") == coding
    assert decoded(response, raw)["Item"]["x"] == {"S": BIG}


def test_several_accept_encoding_headers_are_joined(endpoint: Endpoint, table: str) -> None:
    response, raw = get_item(endpoint, table, "big", "identity", "deflate")
    assert response.headers.get("Content-Encoding") == "deflate"
    assert decoded(response, raw)["Item"]["x"] == {"S": BIG}


def test_small_response_is_not_compressed(endpoint: Endpoint, table: str) -> None:
    response, raw = get_item(endpoint, table, "small", "gzip")
    assert "Content-Encoding" not in response.headers
    assert orjson.loads(raw)["Item"]["p"] == {"S": "small"}


def test_threshold_and_level_change_at_run_time(endpoint: Endpoint, table: str,
                                               settings: Settings) -> None:
    _, plain = get_item(endpoint, table, "small", "identity")
    settings.response_compression_threshold = len(plain)  # from this size up
    response, _ = get_item(endpoint, table, "small", "gzip")
    assert response.headers.get("Content-Encoding") == "gzip"
    settings.response_compression_threshold = len(plain) + 1
    response, _ = get_item(endpoint, table, "small", "gzip")
    assert "Content-Encoding" not in response.headers
    settings.response_compression_level = 0  # off
    response, _ = get_item(endpoint, table, "big", "gzip")
    assert "Content-Encoding" not in response.headers
    settings.response_compression_level = 1
    _, fast = get_item(endpoint, table, "big", "gzip")
    settings.response_compression_level = 9
    _, small = get_item(endpoint, table, "big", "gzip")
    assert len(small) <= len(fast)


def query_many(endpoint: Endpoint, table: str, *accept: str) -> Reply:
    return post(endpoint, "Query", {
        "TableName": table, "KeyConditionExpression": "p = :p",
        "ExpressionAttributeValues": {":p": {"S": "many"}}},
        [("Accept-Encoding", value) for value in accept])


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_large_query_is_streamed(endpoint: Endpoint, table: str, coding: str) -> None:
    response = query_many(endpoint, table, coding)
    raw = response.raw
    assert response.status == 200
    assert response.headers["Content-Encoding"] == coding
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert "x-amz-crc32" not in response.headers  # not known before the body is sent
    assert response.headers["x-amzn-RequestId"]
    page = orjson.loads(INFLATE[coding](raw))
    assert page["Count"] == 40 and len(INFLATE[coding](raw)) > STREAM_ABOVE
    assert len(raw) < len(INFLATE[coding](raw))


def test_large_query_without_accept_encoding_has_crc(endpoint: Endpoint, table: str) -> None:
    response = query_many(endpoint, table)
    raw = response.raw
    assert "Content-Encoding" not in response.headers
    assert response.headers["x-amz-crc32"] == str(zlib.crc32(raw))
    assert orjson.loads(raw)["Count"] == 40


def boto3_with(endpoint: Endpoint, accept: str | None,
               seen: list[dict[str, Any]]) -> Any:
    """A boto3 client (checking x-amz-crc32 as botocore does) sending ``Accept-Encoding:
    accept`` and inflating responses before they are parsed; ``seen`` gets each response's
    headers and raw length."""
    client = endpoint.client()

    def add_header(params: dict[str, Any], **_: Any) -> None:
        if accept is not None:
            params["headers"]["Accept-Encoding"] = accept

    def inflate(response_dict: dict[str, Any], **_: Any) -> None:
        headers = response_dict["headers"]
        seen.append({"headers": dict(headers), "raw": len(response_dict["body"])})
        coding = headers.get("Content-Encoding")
        if coding:
            response_dict["body"] = INFLATE[coding](response_dict["body"])

    client.meta.events.register("before-call.dynamodb", add_header)
    client.meta.events.register("before-parse.dynamodb", inflate)
    return client


def test_boto3_sends_identity_and_is_never_compressed(endpoint: Endpoint, table: str) -> None:
    seen: list[dict[str, Any]] = []
    client = boto3_with(endpoint, None, seen)
    sent: list[str] = []
    client.meta.events.register(
        "before-send.dynamodb",
        lambda request, **_: sent.append(request.headers.get("Accept-Encoding", "")))
    page = client.query(TableName=table, KeyConditionExpression="p = :p",
                        ExpressionAttributeValues={":p": {"S": "many"}})
    assert page["Count"] == 40
    assert "content-encoding" not in {k.lower() for k in seen[-1]["headers"]}
    assert "x-amz-crc32" in seen[-1]["headers"]
    # botocore adds no Accept-Encoding; http.client then sends "identity" on its own.
    assert sent == [""]


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_boto3_reads_compressed_responses(endpoint: Endpoint, table: str, coding: str) -> None:
    """botocore checks x-amz-crc32 against the bytes it received (retryhandler.CRC32Checker):
    a compressed response passes because the CRC is of the compressed bytes; a streamed one has
    none to check."""
    seen: list[dict[str, Any]] = []
    client = boto3_with(endpoint, coding, seen)
    item = client.get_item(TableName=table, Key={"p": {"S": "big"}, "c": {"N": "0"}})["Item"]
    assert item["x"] == {"S": BIG}
    assert seen[-1]["headers"]["Content-Encoding"] == coding
    assert "x-amz-crc32" in seen[-1]["headers"]
    page = client.query(TableName=table, KeyConditionExpression="p = :p",
                        ExpressionAttributeValues={":p": {"S": "many"}})
    assert page["Count"] == 40
    assert seen[-1]["headers"]["Transfer-Encoding"] == "chunked"
    assert "x-amz-crc32" not in seen[-1]["headers"]
