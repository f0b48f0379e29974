"""Time to Live: UpdateTimeToLive / DescribeTimeToLive and the expiry service (operations/ttl.py).

The test servers scan TTL-enabled tables every second (conftest.py: ttl_period=1.0).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_indexes import index
from test_streams import read_all, streams_client

from alternator.operations import ttl

from conftest import Endpoint, create_table, error_of
from test_write_path import shadow


@pytest.fixture
def table(dynamodb: Any) -> Iterator[str]:
    name = create_table(dynamodb, [("p", "HASH", "S")], Tags=[{"Key": "test:shadow",
                                                                "Value": "s"}])
    yield name
    dynamodb.delete_table(TableName=name)


def describe(dynamodb: Any, table: str) -> dict[str, Any]:
    return dict(dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"])


def test_enable_describe_disable(dynamodb: Any, table: str) -> None:
    assert describe(dynamodb, table) == {"TimeToLiveStatus": "DISABLED"}
    spec = {"Enabled": True, "AttributeName": "expires"}
    out = dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=spec)
    assert out["TimeToLiveSpecification"] == spec
    assert describe(dynamodb, table) == {"TimeToLiveStatus": "ENABLED",
                                         "AttributeName": "expires"}
    for again in (spec, {"Enabled": True, "AttributeName": "other"}):
        with pytest.raises(ClientError) as exc:
            dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=again)
        assert error_of(exc) == ("ValidationException", "TimeToLive is already enabled")
    off = {"Enabled": False, "AttributeName": "expires"}
    assert dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=off)[
        "TimeToLiveSpecification"] == off
    assert describe(dynamodb, table) == {"TimeToLiveStatus": "DISABLED"}
    with pytest.raises(ClientError) as exc:
        dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=off)
    assert error_of(exc) == ("ValidationException", "TimeToLive is already disabled")


@pytest.mark.parametrize("spec, member", [
    (None, "timeToLiveSpecification"),
    ({"AttributeName": "e"}, "timeToLiveSpecification.enabled"),
    ({"Enabled": True}, "timeToLiveSpecification.attributeName"),
    ({"Enabled": True, "AttributeName": ""}, "timeToLiveSpecification.attributeName"),
    ({"Enabled": True, "AttributeName": "a" * 256}, "timeToLiveSpecification.attributeName"),
])
def test_specification_is_validated(raw_dynamodb: Any, table: str, spec: Any,
                                    member: str) -> None:
    request: dict[str, Any] = {"TableName": table}
    if spec is not None:
        request["TimeToLiveSpecification"] = spec
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_time_to_live(**request)
    code, message = error_of(exc)
    assert code == "ValidationException" and member in message
    assert describe(raw_dynamodb, table) == {"TimeToLiveStatus": "DISABLED"}


def test_unknown_table(dynamodb: Any) -> None:
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.update_time_to_live(TableName="no_such_table_ttl", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "e"})


def test_only_expired_items_are_deleted(endpoint: Endpoint, dynamodb: Any, table: str) -> None:
    now = int(time.time())
    items = {
        "past": {"N": str(now - 60)},
        "future": {"N": str(now + 3600)},
        "string": {"S": str(now - 60)},
        "ancient": {"N": str(now - 6 * 365 * 24 * 3600)},  # over five years: never expires
        "fraction": {"N": f"{now - 60}.5"},
    }
    for name, value in items.items():
        dynamodb.put_item(TableName=table, Item={"p": {"S": name}, "e": value,
                                                  "s": {"S": name}})
    dynamodb.put_item(TableName=table, Item={"p": {"S": "missing"}})
    # Until the service runs, an expired item is still there, as in DynamoDB.
    assert "Item" in dynamodb.get_item(TableName=table, Key={"p": {"S": "past"}},
                                       ConsistentRead=True)
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "e"})
    gone = {"past", "fraction"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = {i["p"]["S"] for i in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]}
        if not left & gone:
            break
        time.sleep(0.5)
    assert left == {"future", "string", "ancient", "missing"}
    # The deletion went through the write path: the derived rows followed the items.
    assert shadow(endpoint, table, {"S": "past"}) == []
    assert len(shadow(endpoint, table, {"S": "future"})) == 1


def test_a_lease_goes_to_one_claimant(endpoint: Endpoint) -> None:
    import asyncio
    import uuid

    from conftest import _servers

    thread, _ = _servers[endpoint.backend]
    assert thread.server is not None
    storage = thread.server.storage
    name = f"test:{uuid.uuid4()}"

    async def claims() -> list[bool]:
        return list(await asyncio.gather(*(storage.claim(name, 30) for _ in range(5))))

    assert sorted(asyncio.run_coroutine_threadsafe(claims(), thread.loop).result(30)) == [
        False, False, False, False, True]


@pytest.mark.slow
def test_two_servers_share_the_expiry_and_one_finishes_alone(endpoint: Endpoint, dynamodb: Any,
                                                             tmp_path: Any) -> None:
    # The suite's server and a second process, both scanning every second: they divide each
    # period's ranges by lease; the second is killed mid-way and the first finishes.
    if endpoint.backend != "cassandra":
        pytest.skip("several server processes on one cluster")
    from conftest import cassandra_salted_hash, cassandra_serve_args
    from test_processes import start_process

    name = create_table(dynamodb, [("p", "HASH", "S")], StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    try:
        past = str(int(time.time()) - 60)
        for start in range(0, 5000, 25):
            dynamodb.batch_write_item(RequestItems={name: [
                {"PutRequest": {"Item": {"p": {"S": str(i)}, "e": {"N": past}}}}
                for i in range(start, start + 25)]})
        args = [*cassandra_serve_args(), "--alternator-ttl-period-in-seconds", "1"]
        credentials = ("cassandra", cassandra_salted_hash())
        first, _ = start_process(args, tmp_path / "first.log", credentials)
        try:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": "e"})
            # Kill one server once the expiry has begun: the other finishes every range.
            deadline = time.monotonic() + 60
            while dynamodb.scan(TableName=name, Select="COUNT")["Count"] == 5000 \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
            first.kill()
            first.wait(30)
            while time.monotonic() < deadline:
                if dynamodb.scan(TableName=name, Select="COUNT", ConsistentRead=True)[
                        "Count"] == 0:
                    break
                time.sleep(1)
            assert dynamodb.scan(TableName=name, Select="COUNT", ConsistentRead=True)[
                "Count"] == 0
            # Each item was deleted once: one REMOVE record each, all by the service. The
            # killed server may have deleted its last few items and died before writing their
            # records (docs/streams.md, "Failure"; it deletes at most CONCURRENT_DELETES at once).
            time.sleep(1.3)
            arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
            records = read_all(streams_client(endpoint), arn)
            removed = [r["dynamodb"]["Keys"]["p"]["S"] for r in records
                       if r["eventName"] == "REMOVE"]
            assert len(removed) == len(set(removed)), "an item was deleted twice"
            missing = {str(i) for i in range(5000)} - set(removed)
            assert len(missing) <= ttl.CONCURRENT_DELETES, sorted(missing)[:10]
            assert all(r["userIdentity"]["PrincipalId"] == "dynamodb.amazonaws.com"
                       for r in records if r["eventName"] == "REMOVE")
        finally:
            first.kill()
            first.wait(30)
    finally:
        dynamodb.delete_table(TableName=name)


def test_a_dead_servers_range_is_taken_over_within_the_period(tmp_path: Any,
                                                              monkeypatch: Any) -> None:
    """A range whose lease holder stopped renewing (died) goes to the next pass within the
    same period; a finished range is not done again in that period."""
    import asyncio
    import uuid

    from alternator.config import Config
    from alternator.operations import ttl
    from alternator.schema import KeyAttribute, TableSchema
    from alternator.storage import ItemWrite
    from alternator.storage.sqlite import SQLiteStorage

    monkeypatch.setattr(ttl, "LEASE_SECONDS", 1.0)
    config = Config(ttl_period=3600.0)

    async def scenario() -> list[int]:
        storage = SQLiteStorage(str(tmp_path / "ttl.db"))
        await storage.open()
        try:
            table = await storage.create_table(TableSchema(
                "expiring", KeyAttribute("p", "S"), None, (KeyAttribute("p", "S"),),
                str(uuid.uuid4()), time.time(), ttl_attribute="e"))
            past = {"N": str(int(time.time()) - 60)}
            await storage.write(table, [ItemWrite({"p": {"S": str(i)}},
                                                  {"p": {"S": str(i)}, "e": past})
                                        for i in range(200)])
            period = int(time.time() // config.ttl_period)
            dead = str(uuid.uuid4())  # a server that took every range, then died
            for segment in range(ttl.SEGMENTS):
                assert await storage.claim(f"ttl:{table.table_id}:{segment}:{period}", 1.0,
                                           dead)
            counts = ttl.ExpiryCounts()
            first = await ttl.expire_table(storage, config, table, counts)
            await asyncio.sleep(1.2)  # its leases run out: nobody renews them
            second = await ttl.expire_table(storage, config, table, counts)
            await storage.write(table, [ItemWrite({"p": {"S": "late"}},
                                                  {"p": {"S": "late"}, "e": past})])
            third = await ttl.expire_table(storage, config, table, counts)  # all done
            return [first, second, third]
        finally:
            await storage.close()

    assert asyncio.run(scenario()) == [0, 200, 0]


def test_expiry_racing_updates_that_extend_the_ttl(dynamodb: Any) -> None:
    """Clients extend the TTL of half the expired items while the service deletes them: an
    extension that succeeded keeps its item (with its index entry); one that came too late
    found nothing (its condition failed); every other expired item and entry is gone."""
    import threading

    name = create_table(dynamodb, [("p", "HASH", "S")], attributes=(("g", "S"),),
                        GlobalSecondaryIndexes=[index("by_g", ["g"], projection="KEYS_ONLY")])
    try:
        past, future = str(int(time.time()) - 60), str(int(time.time()) + 3600)
        for start in range(0, 300, 25):
            dynamodb.batch_write_item(RequestItems={name: [
                {"PutRequest": {"Item": {"p": {"S": str(i)}, "e": {"N": past},
                                         "g": {"S": "all"}}}}
                for i in range(start, start + 25)]})
        extended: dict[str, bool] = {}

        def extend(keys: list[int]) -> None:
            for i in keys:
                try:
                    dynamodb.update_item(TableName=name, Key={"p": {"S": str(i)}},
                                         UpdateExpression="SET e = :f",
                                         ConditionExpression="attribute_exists(p)",
                                         ExpressionAttributeValues={":f": {"N": future}})
                    extended[str(i)] = True
                except ClientError as error:
                    assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                    extended[str(i)] = False

        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "e"})
        threads = [threading.Thread(target=extend, args=(list(range(k, 300, 6)),))
                   for k in (0, 2, 4)]  # the even items, from three clients at once
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        survivors = {k for k, ok in extended.items() if ok}
        deadline = time.monotonic() + 30
        while True:
            left = {i["p"]["S"] for i in dynamodb.scan(TableName=name,
                                                       ConsistentRead=True)["Items"]}
            if left == survivors or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert left == survivors
        assert len(extended) == 150
        entries = dynamodb.query(TableName=name, IndexName="by_g",
                                 KeyConditionExpression="g = :g",
                                 ExpressionAttributeValues={":g": {"S": "all"}})["Items"]
        assert {e["p"]["S"] for e in entries} == survivors
    finally:
        dynamodb.delete_table(TableName=name)
