"""Items and tables through several servers of one cluster: what one server writes, another
reads at once; conditional writes from several client processes through two servers are
linearizable (LOCAL_SERIAL across the cluster's dc1 replicas); a table name is claimed once
across datacenters (SERIAL)."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from clusterlib import Server, client, counter_worker


def create_table(dynamodb: Any, range_key: bool = True) -> str:
    name = f"c_{uuid.uuid4().hex[:12]}"
    keys = [("p", "HASH", "S")] + ([("c", "RANGE", "N")] if range_key else [])
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, k, _ in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, _, t in keys],
        BillingMode="PAY_PER_REQUEST")
    return name


@pytest.fixture
def table(servers: dict[str, Server], secret: str) -> Iterator[str]:
    a = client(servers["a"].url, secret)
    name = create_table(a)
    yield name
    a.delete_table(TableName=name)


def test_table_created_through_one_server_is_usable_through_another(
        servers: dict[str, Server], secret: str) -> None:
    a, b, far = (client(servers[s].url, secret) for s in ("a", "b", "far"))
    name = create_table(a)
    try:
        # At once, without waiting for the table through b.
        assert b.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
        b.put_item(TableName=name, Item={"p": {"S": "k"}, "c": {"N": "1"}, "v": {"S": "b"}})
        got = a.get_item(TableName=name, Key={"p": {"S": "k"}, "c": {"N": "1"}},
                         ConsistentRead=True)
        assert got["Item"]["v"] == {"S": "b"}
        assert name in far.list_tables()["TableNames"]
    finally:
        a.delete_table(TableName=name)
    # Deleted through a: gone through b.
    with pytest.raises(b.exceptions.ResourceNotFoundException):
        b.describe_table(TableName=name)


def test_crud_and_query_across_servers(servers: dict[str, Server], secret: str,
                                       table: str) -> None:
    a, b = client(servers["a"].url, secret), client(servers["b"].url, secret)
    for c in range(20):
        (a if c % 2 else b).put_item(
            TableName=table, Item={"p": {"S": "q"}, "c": {"N": str(c)}, "v": {"N": str(c * c)}})
    for reader in (a, b):
        pages = list(reader.get_paginator("query").paginate(
            TableName=table, KeyConditionExpression="p = :p AND c >= :lo",
            ExpressionAttributeValues={":p": {"S": "q"}, ":lo": {"N": "5"}},
            ConsistentRead=True, PaginationConfig={"PageSize": 4}))
        assert [int(i["c"]["N"]) for p in pages for i in p["Items"]] == list(range(5, 20))
    key = {"p": {"S": "q"}, "c": {"N": "3"}}
    a.update_item(TableName=table, Key=key, UpdateExpression="SET v = v + :one",
                  ConditionExpression="v = :nine",
                  ExpressionAttributeValues={":one": {"N": "1"}, ":nine": {"N": "9"}})
    assert b.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {"N": "10"}
    with pytest.raises(b.exceptions.ConditionalCheckFailedException):
        b.update_item(TableName=table, Key=key, UpdateExpression="SET v = v + :one",
                      ConditionExpression="v = :nine",
                      ExpressionAttributeValues={":one": {"N": "1"}, ":nine": {"N": "9"}})
    b.delete_item(TableName=table, Key=key)
    assert "Item" not in a.get_item(TableName=table, Key=key, ConsistentRead=True)
    written = a.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"p": {"S": "batch"}, "c": {"N": str(c)}}}} for c in range(10)]})
    assert not written["UnprocessedItems"]
    got = b.batch_get_item(RequestItems={table: {"ConsistentRead": True, "Keys": [
        {"p": {"S": "batch"}, "c": {"N": str(c)}} for c in range(10)]}})
    assert len(got["Responses"][table]) == 10


def test_conditional_counter_from_several_processes(servers: dict[str, Server], secret: str,
                                                    table: str) -> None:
    """Read-then-conditional-write increments from 4 processes through 2 servers: every
    acknowledged increment counts once, no lost update. A write answered with an unknown
    outcome (Paxos contention can time out) may have applied or not; the item's log of tokens
    tells which, and the counter must agree with it."""
    a = client(servers["a"].url, secret)
    key = {"p": {"S": "counter"}, "c": {"N": "0"}}
    a.put_item(TableName=table, Item={**key, "n": {"N": "0"}, "log": {"L": []}})
    urls = [servers["a"].url, servers["b"].url]
    processes, increments = 4, 15
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.starmap(counter_worker, [(urls[i % 2], secret, table, key, increments)
                                                for i in range(processes)])
    assert [e for _, _, errs in results for e in errs] == []
    acknowledged = {t for acked, _, _ in results for t in acked}
    unknown = {t for _, maybe, _ in results for t in maybe}
    assert len(acknowledged) == processes * increments
    item = a.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    log = [entry["S"] for entry in item["log"]["L"]]
    assert len(log) == len(set(log))  # no write applied twice
    assert acknowledged <= set(log) <= acknowledged | unknown
    assert int(item["n"]["N"]) == len(log)


def test_one_table_name_across_datacenters(servers: dict[str, Server], secret: str) -> None:
    """CreateTable of one name through a server in dc1 and one in dc2 at the same moment:
    exactly one succeeds, every time (table names are claimed with a global LWT; with
    LOCAL_SERIAL each datacenter's Paxos would grant its own claim)."""
    near, far = client(servers["a"].url, secret), client(servers["far"].url, secret)
    for _ in range(4):
        name = f"x_{uuid.uuid4().hex[:12]}"
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def create(dynamodb: Any, name: str = name, barrier: threading.Barrier = barrier,
                   outcomes: list[str] = outcomes) -> None:
            barrier.wait()
            try:
                dynamodb.create_table(
                    TableName=name, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
                outcomes.append("created")
            except dynamodb.exceptions.ResourceInUseException:
                outcomes.append("in use")

        threads = [threading.Thread(target=create, args=(c,)) for c in (near, far)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        try:
            assert sorted(outcomes) == ["created", "in use"], name
        finally:
            near.delete_table(TableName=name)
