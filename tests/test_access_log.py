"""The access log (alternator/http/outcome.py): one JSON line per DynamoDB request, whatever
its end, whose request id is the response's ``x-amzn-RequestId``. Off by default; switched on
here at run time, as the live configuration table would."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from alternator.config import Config
from alternator.server import STATE
from alternator.settings import Settings

from conftest import Endpoint, ServerThread, create_table, own_sqlite_server, sqlite_superuser
from rawhttp import connect, dynamodb_head, read_response

FIELDS = {"time", "request_id", "operation", "table", "status", "error", "latency_ms", "user",
          "client", "request_bytes", "response_bytes"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, Endpoint]]:
    with own_sqlite_server(str(tmp_path_factory.mktemp("access"))) as server:
        yield server


@pytest.fixture(scope="module")
def endpoint(server: tuple[ServerThread, Endpoint]) -> Endpoint:
    return server[1]


@pytest.fixture()
def settings(server: tuple[ServerThread, Endpoint]) -> Iterator[Settings]:
    thread, _ = server
    assert thread.server is not None
    live = thread.server.runner.app[STATE].settings
    yield live
    live.access_log = False


def _parsed(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "alternator.access"]


def test_success_and_error_lines(endpoint: Endpoint, settings: Settings,
                                 caplog: pytest.LogCaptureFixture) -> None:
    client = endpoint.client()
    settings.access_log = True
    with caplog.at_level(logging.INFO, logger="alternator.access"):
        name = create_table(client, [("p", "HASH", "S")])
        try:
            reply = client.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"S": "x" * 50}})
            with pytest.raises(ClientError) as caught:
                client.describe_table(TableName="no_such_table_here")
        finally:
            client.delete_table(TableName=name)
    records = _parsed(caplog)
    assert [r["operation"] for r in records] == ["CreateTable", "PutItem", "DescribeTable",
                                                 "DeleteTable"]
    for record in records:
        assert set(record) == FIELDS
        assert record["user"] == "alternator" and record["client"] == "127.0.0.1"
        assert record["latency_ms"] > 0 and record["request_bytes"] > 0
    put = records[1]
    assert put["request_id"] == reply["ResponseMetadata"]["RequestId"]
    assert put["table"] == name and put["status"] == 200 and put["error"] is None
    assert put["response_bytes"] == 2  # "{}"
    missing = records[2]
    assert missing["request_id"] == caught.value.response["ResponseMetadata"]["RequestId"]
    assert missing["status"] == 400 and missing["error"] == "ResourceNotFoundException"
    assert missing["table"] == "no_such_table_here"


def test_batch_names_its_lone_table(endpoint: Endpoint, settings: Settings,
                                    caplog: pytest.LogCaptureFixture) -> None:
    client = endpoint.client()
    settings.access_log = True
    with caplog.at_level(logging.INFO, logger="alternator.access"), pytest.raises(ClientError):
        client.batch_get_item(RequestItems={"no_such_batch_table": {
            "Keys": [{"p": {"S": "k"}}]}})
    assert [(r["operation"], r["table"]) for r in _parsed(caplog)] == [
        ("BatchGetItem", "no_such_batch_table")]


def test_refusals_from_the_headers_are_logged(endpoint: Endpoint, settings: Settings,
                                             caplog: pytest.LogCaptureFixture) -> None:
    settings.access_log = True
    with caplog.at_level(logging.INFO, logger="alternator.access"):
        for extra in ([], [(b"Expect", b"100-continue")]):
            with connect(endpoint.url) as sock:
                sock.sendall(dynamodb_head(1000, extra))
                status, headers, _ = read_response(sock)
            assert status == 400
        time.sleep(0.05)
    records = _parsed(caplog)
    assert len(records) == 2
    for record in records:
        assert record["error"] == "MissingAuthenticationTokenException"
        assert record["operation"] == "ListTables" and record["user"] is None
        assert record["status"] == 400 and record["request_bytes"] == 0
    assert records[1]["request_id"] == headers["x-amzn-requestid"]


def test_off_by_default(endpoint: Endpoint, settings: Settings,
                        caplog: pytest.LogCaptureFixture) -> None:
    assert Config().access_log is False and settings.access_log is False
    with caplog.at_level(logging.INFO, logger="alternator.access"):
        endpoint.client().list_tables()
    assert _parsed(caplog) == []


def test_error_request_ids_are_the_headers(endpoint: Endpoint) -> None:
    """One id per request, in the header, whatever the answer (it once differed on errors)."""
    client = endpoint.client()
    with pytest.raises(ClientError) as caught:
        client.describe_table(TableName="no_such_table_here")
    metadata = caught.value.response["ResponseMetadata"]
    assert metadata["RequestId"] == metadata["HTTPHeaders"]["x-amzn-requestid"]


def test_cli_writes_plain_json_lines(tmp_path: Any) -> None:
    """``alternator serve --alternator-access-log true`` writes each line to stderr as a JSON
    document of its own."""
    from test_processes import free_port, wait_listening

    path = str(tmp_path / "cli.db")
    secret = sqlite_superuser(path)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alternator", "serve", "--alternator-port", str(port),
             "--alternator-https-port", "none", "--sqlite-path", path,
             "--alternator-access-log", "true"], stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_listening(proc, port, log)
        client = Endpoint("sqlite", f"http://127.0.0.1:{port}", "alternator", secret).client()
        request_id = client.list_tables()["ResponseMetadata"]["RequestId"]
    finally:
        proc.terminate()
        proc.wait(30)
    records = [json.loads(line) for line in log.read_text().splitlines()
               if line.startswith("{")]
    assert [(r["operation"], r["request_id"]) for r in records] == [("ListTables", request_id)]
