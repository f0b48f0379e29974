"""The write path hands every operation's old and new item to the derived rows (write_path.py).

With test hooks on, a table tagged ``test:shadow`` = ``s`` keeps one derived row per item that
has a scalar ``s``, in the partition of ``s``'s value, holding the whole item
(alternator/derived.py). After each operation the shadow must hold exactly the table's current
items, under their current ``s``: a stale row means the write path got the old item wrong, a
missing or outdated one the new item. On Cassandra, a server process killed between an item
write and its derived rows has them completed by another process (intents.py).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from alternator.derived import SHADOW_SPACE, shadow_partition

from conftest import (
    Endpoint,
    _servers,
    cassandra_salted_hash,
    cassandra_serve_args,
    create_table,
)
from test_processes import start_process

POLICIES = ("always_use_lwt", "only_rmw_uses_lwt", "forbid_rmw", "unsafe_rmw")


def shadow(endpoint: Endpoint, table: str, value: dict[str, str]) -> list[dict[str, Any]]:
    """The items in the shadow partition of ``value``, read from the server's storage."""
    thread, _ = _servers[endpoint.backend]
    assert thread.server is not None
    storage = thread.server.storage

    async def read() -> list[tuple[bytes, bytes]]:
        schema = await storage.get_table(table)
        assert schema is not None
        return await storage.read_derived(schema, SHADOW_SPACE, shadow_partition(value), None,
                                          None, True, 100, True)

    rows = asyncio.run_coroutine_threadsafe(read(), thread.loop).result(30)
    return [orjson.loads(v) for _, v in rows]


@pytest.fixture(scope="module", params=POLICIES)
def shadowed(request: pytest.FixtureRequest, dynamodb: Any) -> Any:
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")],
                        Tags=[{"Key": "test:shadow", "Value": "s"},
                              {"Key": "system:write_isolation", "Value": request.param}])
    yield name, request.param
    dynamodb.delete_table(TableName=name)


def test_every_operation_keeps_the_shadow_exact(endpoint: Endpoint, dynamodb: Any,
                                                shadowed: Any) -> None:
    table, policy = shadowed
    key = {"p": {"S": "k"}, "c": {"N": "1"}}
    s = {"S": f"{policy}-a"}
    b = {"S": f"{policy}-b"}
    dynamodb.put_item(TableName=table, Item={**key, "s": s, "x": {"N": "1"}})
    assert shadow(endpoint, table, s) == [{**key, "s": s, "x": {"N": "1"}}]

    # A blind update: the shadow needs the old item (to move it) and the whole new one.
    dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET s = :b",
                         ExpressionAttributeValues={":b": b})
    assert shadow(endpoint, table, s) == []
    assert shadow(endpoint, table, b) == [{**key, "s": b, "x": {"N": "1"}}]

    if policy != "forbid_rmw":  # an update that reads the item
        dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET x = x + :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})
        assert shadow(endpoint, table, b) == [{**key, "s": b, "x": {"N": "2"}}]

    dynamodb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE s")
    assert shadow(endpoint, table, b) == []

    dynamodb.put_item(TableName=table, Item={**key, "s": s})
    dynamodb.delete_item(TableName=table, Key=key)
    assert shadow(endpoint, table, s) == []

    other = {"p": {"S": "k"}, "c": {"N": "2"}}
    dynamodb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {**key, "s": s}}},
        {"PutRequest": {"Item": {**other, "s": s}}},
    ]})
    assert shadow(endpoint, table, s) == [{**key, "s": s}, {**other, "s": s}]
    dynamodb.batch_write_item(RequestItems={table: [
        {"DeleteRequest": {"Key": key}},
        {"PutRequest": {"Item": {**other, "s": b}}},
    ]})
    assert shadow(endpoint, table, s) == []
    assert shadow(endpoint, table, b) == [{**other, "s": b}]


def test_a_failed_condition_changes_no_derived_row(endpoint: Endpoint, dynamodb: Any,
                                                   shadowed: Any) -> None:
    table, policy = shadowed
    if policy == "forbid_rmw":
        pytest.skip("conditions are read-modify-write")
    key = {"p": {"S": "cond"}, "c": {"N": "1"}}
    s = {"S": f"{policy}-cond"}
    dynamodb.put_item(TableName=table, Item={**key, "s": s})
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET s = :n",
                             ConditionExpression="attribute_not_exists(p)",
                             ExpressionAttributeValues={":n": {"S": "never"}})
    assert shadow(endpoint, table, s) == [{**key, "s": s}]
    assert shadow(endpoint, table, {"S": "never"}) == []


@pytest.mark.slow
def test_derived_rows_of_a_killed_server_are_completed(endpoint: Endpoint, dynamodb: Any,
                                                       tmp_path: Path) -> None:
    if endpoint.backend != "cassandra":
        pytest.skip("SQLite writes an item and its derived rows in one transaction")
    table = create_table(dynamodb, [("p", "HASH", "S")],
                         Tags=[{"Key": "test:shadow", "Value": "s"}])
    try:
        key = {"p": {"S": "crash"}}
        dynamodb.put_item(TableName=table, Item={**key, "s": {"S": "before"}})
        os.environ["ALTERNATOR_TEST_HOOKS"] = "1"
        os.environ["ALTERNATOR_TEST_CRASH_AFTER_ITEM_WRITE"] = "1"
        try:
            proc, doomed = start_process(cassandra_serve_args(), tmp_path / "doomed.log",
                                         ("cassandra", cassandra_salted_hash()))
        finally:
            del os.environ["ALTERNATOR_TEST_HOOKS"]
            del os.environ["ALTERNATOR_TEST_CRASH_AFTER_ITEM_WRITE"]
        with pytest.raises(Exception):  # noqa: B017 - the connection dies with the process
            doomed.client().put_item(TableName=table, Item={**key, "s": {"S": "after"}})
        assert proc.wait(30) == -9
        # The item was written, its derived rows were not...
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert item == {**key, "s": {"S": "after"}}
        assert shadow(endpoint, table, {"S": "before"}) == [{**key, "s": {"S": "before"}}]
        assert shadow(endpoint, table, {"S": "after"}) == []
        # ...until the surviving server notices the dead one and completes them.
        deadline = time.monotonic() + 60
        while shadow(endpoint, table, {"S": "after"}) == [] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert shadow(endpoint, table, {"S": "after"}) == [item]
        assert shadow(endpoint, table, {"S": "before"}) == []
    finally:
        dynamodb.delete_table(TableName=table)
