"""Request-level limits: a declared body too large (refused from the headers), the operation
timeout (--alternator-timeout-in-ms) and the concurrent-request limit
(--max-concurrent-requests-per-shard), both changed at run time here as the live configuration
table would. Storage is slowed with the test-only hook of alternator/hooks.py.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from alternator.config import Config
from alternator.hooks import SLOW_STORAGE
from alternator.server import STATE, ServerState

from conftest import Endpoint, ServerThread, create_table, error_of, own_sqlite_server
from rawhttp import closed_within, connect, dynamodb_head, error_type, forged_auth, read_response

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, Endpoint]]:
    with own_sqlite_server(str(tmp_path_factory.mktemp("request-limits")),
                           test_hooks=True) as server:
        yield server


@pytest.fixture(scope="module")
def endpoint(server: tuple[ServerThread, Endpoint]) -> Endpoint:
    return server[1]


@pytest.fixture()
def state(server: tuple[ServerThread, Endpoint]) -> Iterator[ServerState]:
    """The server's state; its settings are put back, and the storage no longer slowed,
    after the test."""
    thread, _ = server
    assert thread.server is not None
    live = thread.server.runner.app[STATE]
    timeout, limit = live.settings.request_timeout, live.settings.max_concurrent_requests
    yield live
    live.settings.request_timeout, live.settings.max_concurrent_requests = timeout, limit
    os.environ.pop(SLOW_STORAGE, None)


@pytest.fixture(scope="module")
def table(endpoint: Endpoint) -> Iterator[str]:
    client = endpoint.client()
    name = create_table(client, [("p", "HASH", "S")])
    client.put_item(TableName=name, Item={"p": {"S": "k"}})
    yield name
    client.delete_table(TableName=name)


def retrying_client(endpoint: Endpoint, retries: int) -> Any:
    """A boto3 client in its default ("legacy") retry mode, retrying up to ``retries`` times."""
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.client("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1",
                        aws_access_key_id=endpoint.access_key,
                        aws_secret_access_key=endpoint.secret_key,
                        config=BotoConfig(retries={"max_attempts": retries, "mode": "legacy"}))


@pytest.mark.parametrize("signed", [False, True])
def test_declared_body_too_large_is_refused_from_the_headers(endpoint: Endpoint,
                                                             signed: bool) -> None:
    """Only the headers are sent: the answer comes anyway, and the connection is closed."""
    extra = forged_auth(endpoint.access_key) if signed else []
    with connect(endpoint.url) as sock:
        sock.sendall(dynamodb_head(16 * MiB + 1, extra))
        start = time.monotonic()
        status, headers, body = read_response(sock)
        assert time.monotonic() - start < 2
        assert status == 413 and error_type(body) == "RequestEntityTooLarge"
        assert headers["connection"].lower() == "close"
        assert closed_within(sock, 5) is not None


def test_declared_body_too_large_gets_no_100_continue(endpoint: Endpoint) -> None:
    extra = [*forged_auth(endpoint.access_key), (b"Expect", b"100-continue")]
    with connect(endpoint.url) as sock:
        sock.sendall(dynamodb_head(64 * MiB, extra))
        status, _, body = read_response(sock)
    assert status == 413 and error_type(body) == "RequestEntityTooLarge"


def test_slow_operation_times_out_and_sdk_retries(endpoint: Endpoint, table: str,
                                                  state: ServerState) -> None:
    state.settings.request_timeout = 0.3
    os.environ[SLOW_STORAGE] = "1500"
    client = retrying_client(endpoint, 2)
    start = time.monotonic()
    with pytest.raises(ClientError) as caught:
        client.get_item(TableName=table, Key={"p": {"S": "k"}})
    took = time.monotonic() - start
    assert error_of(caught)[0] == "InternalServerError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2  # retried
    assert 0.9 <= took < 0.9 + 3  # three answers at the deadline, plus back-off
    # The timed-out operations still run to their end, holding their slots until then.
    assert state.in_flight >= 1
    os.environ.pop(SLOW_STORAGE)
    deadline = time.monotonic() + 5
    while state.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.in_flight == 0
    assert client.get_item(TableName=table, Key={"p": {"S": "k"}})["Item"] == {"p": {"S": "k"}}


def test_no_timeout_by_default(endpoint: Endpoint, table: str, state: ServerState) -> None:
    assert Config().request_timeout == 0 and state.settings.request_timeout == 0
    os.environ[SLOW_STORAGE] = "500"
    item = endpoint.client().get_item(TableName=table, Key={"p": {"S": "k"}})["Item"]
    assert item == {"p": {"S": "k"}}


def _concurrently(endpoint: Endpoint, table: str, count: int, retries: int = 0) -> list[str]:
    """``count`` GetItems at once; each one's outcome: "ok" or the error code."""
    clients = [retrying_client(endpoint, retries) for _ in range(count)]
    results: list[str] = ["?"] * count

    def call(i: int) -> None:
        try:
            clients[i].get_item(TableName=table, Key={"p": {"S": "k"}})
            results[i] = "ok"
        except ClientError as exc:
            results[i] = str(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_requests_past_the_concurrency_limit_are_throttled(endpoint: Endpoint, table: str,
                                                          state: ServerState) -> None:
    state.settings.max_concurrent_requests = 2
    os.environ[SLOW_STORAGE] = "700"
    results = _concurrently(endpoint, table, 6)
    assert results.count("ok") >= 2
    assert set(results) == {"ok", "ThrottlingException"}, results
    assert results.count("ThrottlingException") >= 2
    # ThrottlingException is retried (with back-off) by every SDK, boto3's default mode too.
    results = _concurrently(endpoint, table, 4, retries=10)
    assert results == ["ok"] * 4
    state.settings.max_concurrent_requests = 0  # no limit
    assert _concurrently(endpoint, table, 6) == ["ok"] * 6
