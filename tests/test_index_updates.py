"""UpdateTable's GlobalSecondaryIndexUpdates on both backends: an index created online on a
table that keeps being written, deleted, re-created; and the refusals DynamoDB answers."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import (
    create_table,
)
from tests.test_indexes import index, query_all, refused, scan_all
from tests.test_processes import start_process, stop_process

ITEMS = 10_000
GROUPS = 12


def _wait_active(client: Any, table: str, name: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_table(TableName=table)["Table"]
        (found,) = [ix for ix in described.get("GlobalSecondaryIndexes", [])
                    if ix["IndexName"] == name]
        if found["IndexStatus"] == "ACTIVE":
            assert described["TableStatus"] == "ACTIVE"
            return found
        assert found["IndexStatus"] == "CREATING"
        assert found["Backfilling"] is True
        assert described["TableStatus"] == "UPDATING"
        assert time.monotonic() < deadline, "the index never became ACTIVE"
        time.sleep(0.5)


def _create_index(client: Any, table: str, name: str, attribute: str = "g",
                  kind: str = "S") -> dict[str, Any]:
    return client.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": kind}],
        GlobalSecondaryIndexUpdates=[{"Create": index(name, [attribute], projection="KEYS_ONLY")}])


def _group(i: int) -> dict[str, Any]:
    return {"S": f"g{i % GROUPS}"}


_KEEP_WRITING = r"""
import random, sys
import boto3
from botocore.config import Config
url, key, secret, table, items = sys.argv[1:6]
client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id=key, aws_secret_access_key=secret,
                      config=Config(retries={"max_attempts": 1}))
rng = random.Random(7)
while True:
    i = rng.randrange(int(items))
    item_key = {"p": {"S": f"p{i}"}}
    action = rng.randrange(4)
    if action == 0:
        client.update_item(TableName=table, Key=item_key, UpdateExpression="SET g = :g",
                           ExpressionAttributeValues={":g": {"S": f"g{rng.randrange(99) % 12}"}})
    elif action == 1:
        client.update_item(TableName=table, Key=item_key, UpdateExpression="REMOVE g")
    elif action == 2:
        client.delete_item(TableName=table, Key=item_key)
    else:
        client.put_item(TableName=table, Item={**item_key, "g": {"S": f"g{(i + 1) % 12}"}})
"""


def test_online_creation_while_writing(endpoint: Any) -> None:
    client = endpoint.client()
    table = create_table(client, [("p", "HASH", "S")])
    try:
        requests = [{"PutRequest": {"Item": {"p": {"S": f"p{i}"}, "v": {"N": str(i)},
                                             **({"g": _group(i)} if i % 7 else {})}}}
                    for i in range(ITEMS)]
        batches = [requests[i:i + 25] for i in range(0, ITEMS, 25)]
        writers = [threading.Thread(target=lambda part=part: [  # type: ignore[misc]
            client.batch_write_item(RequestItems={table: b}) for b in part])
            for part in (batches[k::4] for k in range(4))]
        for w in writers:
            w.start()
        for w in writers:
            w.join()

        # Another client process changes index keys all along, until it is stopped.
        background = subprocess.Popen(
            [sys.executable, "-c", _KEEP_WRITING, endpoint.url, endpoint.access_key,
             endpoint.secret_key, table, str(ITEMS)], stderr=subprocess.PIPE)
        try:
            created = _create_index(client, table, "by_g")["TableDescription"]
            (described,) = created["GlobalSecondaryIndexes"]
            assert described["IndexStatus"] == "CREATING"
            with pytest.raises(ClientError) as caught:
                client.query(TableName=table, IndexName="by_g", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": "g1"}})
            assert caught.value.response["Error"]["Message"] == \
                "Cannot read from backfilling global secondary index: by_g"
            _wait_active(client, table, "by_g")
            time.sleep(0.5)  # some writes after the index became ACTIVE too
        finally:
            failed = background.poll() is not None
            background.terminate()
            _, err = background.communicate(timeout=60)
        assert not failed, err.decode()

        expected: dict[str, set[str]] = {}
        for item in scan_all(client, TableName=table):
            if "g" in item:
                expected.setdefault(item["g"]["S"], set()).add(item["p"]["S"])
        for group, members in expected.items():
            found = query_all(client, TableName=table, IndexName="by_g",
                              KeyConditionExpression="g = :g",
                              ExpressionAttributeValues={":g": {"S": group}})
            assert sorted(i["p"]["S"] for i in found) == sorted(members), group
        in_index = scan_all(client, TableName=table, IndexName="by_g")
        assert len(in_index) == sum(len(m) for m in expected.values())
    finally:
        client.delete_table(TableName=table)


def test_delete_and_recreate(dynamodb: Any) -> None:
    table = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        for i in range(20):
            dynamodb.put_item(TableName=table, Item={"p": {"S": f"p{i}"}, "g": {"S": "a"}})
        _create_index(dynamodb, table, "ixa")
        _wait_active(dynamodb, table, "ixa")
        assert len(query_all(dynamodb, TableName=table, IndexName="ixa",
                             KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": "a"}})) == 20
        deleted = dynamodb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "ixa"}}])["TableDescription"]
        assert "GlobalSecondaryIndexes" not in deleted
        assert deleted["AttributeDefinitions"] == [{"AttributeName": "p", "AttributeType": "S"}]
        assert refused(lambda: dynamodb.query(
            TableName=table, IndexName="ixa", KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "a"}})) == (
            "ValidationException", "The table does not have the specified index: ixa")
        for i in range(10):  # written while no index exists
            dynamodb.delete_item(TableName=table, Key={"p": {"S": f"p{i}"}})
        # Re-created as a number-keyed index on another attribute: nothing of the old one.
        for i in range(10, 15):
            dynamodb.update_item(TableName=table, Key={"p": {"S": f"p{i}"}},
                                 UpdateExpression="SET n = :n",
                                 ExpressionAttributeValues={":n": {"N": str(i)}})
        _create_index(dynamodb, table, "ixa", "n", "N")
        _wait_active(dynamodb, table, "ixa")
        found = query_all(dynamodb, TableName=table, IndexName="ixa",
                          KeyConditionExpression="n = :n",
                          ExpressionAttributeValues={":n": {"N": "12"}})
        assert [i["p"]["S"] for i in found] == ["p12"]
        assert len(scan_all(dynamodb, TableName=table, IndexName="ixa")) == 5
    finally:
        dynamodb.delete_table(TableName=table)


def test_update_refusals(dynamodb: Any) -> None:
    table = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        two = [{"Create": index("ax1", ["x"])}, {"Create": index("ax2", ["y"])}]
        code, _ = refused(lambda: dynamodb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=two, AttributeDefinitions=[
                {"AttributeName": "x", "AttributeType": "S"},
                {"AttributeName": "y", "AttributeType": "S"}]))
        assert code == "LimitExceededException"
        code, message = refused(lambda: dynamodb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Create": index("ax1", ["x"])}]))
        assert code == "ValidationException"
        assert "AttributeDefinitions" in message
        code, _ = refused(lambda: dynamodb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}]))
        assert code == "ResourceNotFoundException"
        _create_index(dynamodb, table, "dup")
        code, _ = refused(lambda: _create_index(dynamodb, table, "dup"))
        assert code == "ValidationException"
        _wait_active(dynamodb, table, "dup")
    finally:
        dynamodb.delete_table(TableName=table)


def test_backfill_resumes_after_a_restart(store: tuple[list[str], tuple[str, str]],
                                          tmp_path: Path) -> None:
    """A server killed in the middle of a backfill: the next one resumes at the first range not
    done (after the dead process's lease runs out) and the index ends up exact."""
    args, credentials = store
    args = [*args, "--alternator-backfill-period-in-seconds", "1"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first, endpoint = start_process(args, first_log, credentials)
    second = None
    client = endpoint.client()
    table = create_table(client, [("p", "HASH", "S")])
    try:
        requests = [{"PutRequest": {"Item": {"p": {"S": f"p{i}"}, "g": _group(i)}}}
                    for i in range(8000)]
        loaders = [threading.Thread(target=lambda part=part: [  # type: ignore[misc]
            client.batch_write_item(RequestItems={table: requests[j:j + 25]})
            for j in part]) for part in (range(k * 25, 8000, 100) for k in range(4))]
        for loader in loaders:
            loader.start()
        for loader in loaders:
            loader.join()
        _create_index(client, table, "by_g")
        deadline = time.monotonic() + 120
        while "range 1 of 16 done" not in first_log.read_text():
            assert time.monotonic() < deadline, first_log.read_text()
            time.sleep(0.02)
        first.kill()
        first.wait()
        assert "is ACTIVE" not in first_log.read_text()

        second, endpoint = start_process(args, second_log, credentials)
        client = endpoint.client()
        _wait_active(client, table, "by_g", timeout=180)
        resumed = re.search(r"starting at range (\d+) of 16", second_log.read_text())
        assert resumed is not None, second_log.read_text()
        assert 1 <= int(resumed.group(1)) < 16
        for group in range(GROUPS):
            found = query_all(client, TableName=table, IndexName="by_g",
                              KeyConditionExpression="g = :g",
                              ExpressionAttributeValues={":g": {"S": f"g{group}"}})
            assert sorted(i["p"]["S"] for i in found) == sorted(
                f"p{i}" for i in range(group, 8000, GROUPS))
    finally:
        client.delete_table(TableName=table)
        stop_process(first)
        if second is not None:
            stop_process(second)


_WRITER = r"""
import random, sys
import boto3
from botocore.config import Config
url, key, secret, table, seed, count = sys.argv[1:7]
client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id=key, aws_secret_access_key=secret,
                      config=Config(retries={"max_attempts": 10}))
rng = random.Random(int(seed))
for _ in range(int(count)):
    item_key = {"p": {"S": f"k{rng.randrange(12)}"}}
    g = {"S": f"g{rng.randrange(5)}"}
    h = {"N": str(rng.randrange(5))}
    action = rng.randrange(5)
    if action == 0:
        client.put_item(TableName=table, Item={**item_key, "g": g, "h": h, "v": {"S": seed}})
    elif action == 1:
        client.update_item(TableName=table, Key=item_key, UpdateExpression="SET g = :g, v = :v",
                           ExpressionAttributeValues={":g": g, ":v": {"S": seed}})
    elif action == 2:
        client.update_item(TableName=table, Key=item_key, UpdateExpression="SET h = :h REMOVE g",
                           ExpressionAttributeValues={":h": h})
    elif action == 3:
        client.update_item(TableName=table, Key=item_key, UpdateExpression="REMOVE h")
    else:
        client.delete_item(TableName=table, Key=item_key)
"""


@pytest.mark.parametrize("policy", ["always_use_lwt", "only_rmw_uses_lwt", "unsafe_rmw",
                                    "forbid_rmw"])
def test_concurrent_writers_leave_every_index_exact(
        store: tuple[list[str], tuple[str, str]], tmp_path: Path, policy: str) -> None:
    """Client processes, through two server processes, change the index keys of the same few
    items at once; once they stop, each index holds exactly what the table says it should."""
    args, credentials = store
    servers = [start_process(args, tmp_path / f"server{i}.log", credentials) for i in range(2)]
    try:
        client = servers[0][1].client()
        table = _indexed_table(client, policy)
        writers = [subprocess.Popen(
            [sys.executable, "-c", _WRITER, servers[i % 2][1].url, *credentials, table,
             str(i), "150"], stderr=subprocess.PIPE) for i in range(4)]
        for writer in writers:
            _, err = writer.communicate(timeout=300)
            assert writer.returncode == 0, err.decode()
        items = scan_all(client, TableName=table, ConsistentRead=True)
        assert items, "the writers left nothing to check"
        for name, keys in (("by_g", ("g",)), ("by_hg", ("h", "g"))):
            expected = sorted((i["p"]["S"], *(str(i[k]) for k in keys)) for i in items
                              if all(k in i for k in keys))
            entries = scan_all(client, TableName=table, IndexName=name)
            assert sorted((e["p"]["S"], *(str(e[k]) for k in keys)) for e in entries) == \
                expected, name
            if name == "by_g":  # projection ALL: the entries are the items
                assert sorted(entries, key=lambda e: e["p"]["S"]) == sorted(
                    (i for i in items if "g" in i), key=lambda i: i["p"]["S"])
        client.delete_table(TableName=table)
    finally:
        for proc, _ in servers:
            stop_process(proc)


def _indexed_table(client: Any, policy: str) -> str:
    """p (S) key; GSI by_g on g (S), projection ALL; GSI by_hg on h (N) and g, KEYS_ONLY."""
    name = f"cc_{policy}_{random.randrange(10**9)}"
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "h", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[index("by_g", ["g"]),
                                index("by_hg", ["h"], ["g"], projection="KEYS_ONLY")],
        Tags=[{"Key": "system:write_isolation", "Value": policy}])
    return name


def test_backfill_is_done_once_by_several_processes(
        store: tuple[list[str], tuple[str, str]], tmp_path: Path) -> None:
    """Two server processes that both look for indexes to backfill every second: one of them
    does each range, and none is done twice."""
    args, credentials = store
    args = [*args, "--alternator-backfill-period-in-seconds", "1"]
    logs = [tmp_path / f"server{i}.log" for i in range(2)]
    servers = [start_process(args, log, credentials) for log in logs]
    try:
        client = servers[0][1].client()
        table = create_table(client, [("p", "HASH", "S")])
        for start in range(0, 500, 25):
            client.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {"p": {"S": f"p{i}"}, "g": _group(i)}}}
                for i in range(start, start + 25)]})
        _create_index(client, table, "by_g")
        _wait_active(client, table, "by_g", timeout=120)
        done = [re.findall(r"by_g of \S+: range (\d+) of 16 done", log.read_text())
                for log in logs]
        assert sorted(int(n) for part in done for n in part) == list(range(1, 17)), done
        assert sum(1 for part in done if part) == 1  # one process held the lease throughout
        assert len(scan_all(client, TableName=table, IndexName="by_g")) == 500
        client.delete_table(TableName=table)
    finally:
        for proc, _ in servers:
            stop_process(proc)
