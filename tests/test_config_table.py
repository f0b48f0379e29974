""".scylla.alternator.system.config: the server's options read through Query and Scan, and the
run-time ones changed by a superuser with PutItem or UpdateItem."""

from __future__ import annotations

import gzip
import logging
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import orjson
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from conftest import Endpoint, own_sqlite_server, signed_headers, sqlite_superuser

CONFIG = ".scylla.alternator.system.config"
LIVE = {"alternator_response_compression_threshold_in_bytes",
        "alternator_response_gzip_compression_level", "alternator_timeout_in_ms",
        "max_concurrent_requests_per_shard", "alternator_access_log",
        "alternator_warn_authorization", "log_level"}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _options(client: Any) -> dict[str, dict[str, Any]]:
    items = client.scan(TableName=CONFIG)["Items"]
    return {i["name"]["S"]: i for i in items}


def test_scan_and_query_list_the_run_time_options(dynamodb: Any) -> None:
    options = _options(dynamodb)
    assert set(options) >= LIVE
    for name in LIVE:
        assert options[name]["live"] == {"BOOL": True}
        assert set(options[name]) == {"name", "value", "source", "live"}
    assert options["alternator_timeout_in_ms"]["value"] == {"S": "0"}
    found = dynamodb.query(TableName=CONFIG, KeyConditionExpression="#n = :n",
                           ExpressionAttributeNames={"#n": "name"},
                           ExpressionAttributeValues={":n": {"S": "alternator_timeout_in_ms"}})
    assert [i["name"]["S"] for i in found["Items"]] == ["alternator_timeout_in_ms"]
    none = dynamodb.query(TableName=CONFIG, KeyConditionExpression="#n = :n",
                          ExpressionAttributeNames={"#n": "name"},
                          ExpressionAttributeValues={":n": {"S": "no_such_option"}})
    assert none["Items"] == []


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A server of its own (its run-time options are changed), system-table writes allowed."""
    level = logging.getLogger().level
    with own_sqlite_server(str(tmp_path_factory.mktemp("config")),
                           allow_system_table_write=True, credentials_validity=0.2) as (_, own):
        yield own
    logging.getLogger().setLevel(level)


def test_put_item_changes_a_run_time_option(writable: Endpoint) -> None:
    client = writable.client()
    client.put_item(TableName=CONFIG, Item={
        "name": {"S": "alternator_response_compression_threshold_in_bytes"},
        "value": {"S": "10"}})
    option = _options(client)["alternator_response_compression_threshold_in_bytes"]
    assert option["value"] == {"S": "10"} and option["source"] == {"S": "cql"}
    # The next request sees it: a ListTables answer of more than 10 bytes comes compressed.
    client.create_table(TableName="compressed_answer", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    body = b"{}"
    request = urllib.request.Request(writable.url, data=body, method="POST", headers={
        **signed_headers(writable, body, {"X-Amz-Target": "DynamoDB_20120810.ListTables",
                                          "Content-Type": "application/x-amz-json-1.0"}),
        "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "compressed_answer" in orjson.loads(gzip.decompress(response.read()))[
            "TableNames"]


def test_update_item_changes_a_run_time_option(writable: Endpoint) -> None:
    client = writable.client()
    client.update_item(TableName=CONFIG, Key={"name": {"S": "alternator_timeout_in_ms"}},
                       UpdateExpression="SET #v = :v", ExpressionAttributeNames={"#v": "value"},
                       ExpressionAttributeValues={":v": {"S": "2500"}})
    assert _options(client)["alternator_timeout_in_ms"]["value"] == {"S": "2500"}
    client.update_item(TableName=CONFIG, Key={"name": {"S": "log_level"}},
                       UpdateExpression="SET #v = :v", ExpressionAttributeNames={"#v": "value"},
                       ExpressionAttributeValues={":v": {"S": "warning"}})
    assert _options(client)["log_level"]["value"] == {"S": "WARNING"}
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.parametrize(("name", "value", "says"), [
    ("alternator_timeout_in_ms", "soon", "Invalid value for option alternator_timeout_in_ms"),
    ("alternator_response_gzip_compression_level", "12", "between 0 and 9"),
    ("log_level", "LOUD", "must be one of"),
    ("alternator_port", "9", "cannot be changed while the server runs"),
    ("no_such_option", "1", "cannot be changed while the server runs"),
])
def test_refused_changes(writable: Endpoint, name: str, value: str, says: str) -> None:
    client = writable.client()
    before = _options(client)
    with pytest.raises(ClientError) as refused:
        client.put_item(TableName=CONFIG, Item={"name": {"S": name}, "value": {"S": value}})
    assert _code(refused) == "ValidationException"
    assert says in refused.value.response["Error"]["Message"]
    assert _options(client) == before


def test_malformed_writes(writable: Endpoint) -> None:
    client = writable.client()
    for call in (
        lambda: client.put_item(TableName=CONFIG, Item={"name": {"S": "log_level"}}),
        lambda: client.put_item(TableName=CONFIG, Item={"name": {"S": "log_level"},
                                                        "value": {"N": "1"}}),
        lambda: client.delete_item(TableName=CONFIG, Key={"name": {"S": "log_level"}}),
        lambda: client.update_item(TableName=CONFIG, Key={"name": {"S": "log_level"}},
                                   UpdateExpression="REMOVE #v",
                                   ExpressionAttributeNames={"#v": "value"}),
        lambda: client.update_item(TableName=CONFIG, Key={"other": {"S": "log_level"}},
                                   UpdateExpression="SET #v = :v",
                                   ExpressionAttributeNames={"#v": "value"},
                                   ExpressionAttributeValues={":v": {"S": "INFO"}}),
        lambda: client.update_item(TableName=".scylla.alternator.system.local",
                                   Key={"key": {"S": "local"}}, UpdateExpression="SET a = :v",
                                   ExpressionAttributeValues={":v": {"S": "INFO"}}),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert _code(refused) == "ValidationException"


def test_only_a_superuser_changes_options(writable: Endpoint) -> None:
    from alternator.roles import RoleAdmin

    assert writable.sqlite_path is not None
    admin = RoleAdmin(writable.sqlite_path)
    try:
        role = admin.create("plain_user", "pw", rounds=4)
    finally:
        admin.close()
    assert role.salted_hash is not None
    plain = Endpoint("sqlite", writable.url, "plain_user", role.salted_hash).client()
    with pytest.raises(ClientError) as refused:
        plain.put_item(TableName=CONFIG, Item={"name": {"S": "log_level"},
                                               "value": {"S": "DEBUG"}})
    assert _code(refused) == "AccessDeniedException"


def test_writes_need_the_option(dynamodb: Any, endpoint: Endpoint) -> None:
    if endpoint.backend != "sqlite":
        pytest.skip("the shared Cassandra test server allows system-table writes")
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=CONFIG, Item={"name": {"S": "log_level"},
                                                  "value": {"S": "DEBUG"}})
    assert _code(refused) == "ValidationException"
    assert "--alternator-allow-system-table-write" in refused.value.response["Error"]["Message"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_command_line_sources_and_workers_see_a_change(tmp_path: Any) -> None:
    """From the command line: each option with where its value came from; with --workers 2 a
    change made through one connection is seen through every other within seconds."""
    db = str(tmp_path / "cli.db")
    secret = sqlite_superuser(db)
    port = _free_port()
    env = {**__import__("os").environ, "ALTERNATOR_REGION": "eu-west-3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "alternator", "serve", "--backend", "sqlite", "--sqlite-path", db,
         "--alternator-port", str(port), "--alternator-https-port", "none", "--workers", "2",
         "--alternator-timeout-in-ms", "5000", "--alternator-allow-system-table-write", "true",
         "--cassandra-password", "hush"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)

        def client() -> Any:  # a new connection each time: either worker may answer
            return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id="alternator", aws_secret_access_key=secret,
                                config=BotoConfig(retries={"max_attempts": 1}))

        options = _options(client())
        assert options["alternator_port"]["value"] == {"S": str(port)}
        assert options["alternator_port"]["source"] == {"S": "cli"}
        assert options["alternator_port"]["live"] == {"BOOL": False}
        assert options["region"]["value"] == {"S": "eu-west-3"}
        assert options["region"]["source"] == {"S": "env"}
        assert options["alternator_ttl_period_in_seconds"]["source"] == {"S": "default"}
        assert options["alternator_timeout_in_ms"] == {
            "name": {"S": "alternator_timeout_in_ms"}, "value": {"S": "5000"},
            "source": {"S": "cli"}, "live": {"BOOL": True}}
        assert options["cassandra_password"]["value"] == {"S": "********"}
        client().put_item(TableName=CONFIG, Item={"name": {"S": "alternator_timeout_in_ms"},
                                                  "value": {"S": "7000"}})
        deadline = time.monotonic() + 10
        while True:
            seen = [_options(client())["alternator_timeout_in_ms"]["value"]["S"]
                    for _ in range(8)]
            if seen == ["7000"] * 8:
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(30)
