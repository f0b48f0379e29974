"""The benchmark's tables, data and requests, in DynamoDB JSON.

Workloads (each a closed loop over pre-signed requests picked uniformly from these keys):

- ``get``         GetItem of one of ``ITEMS`` items (~120-byte items) in ``bench_kv``
- ``put``         PutItem overwriting one of them with the same size
- ``cond_update`` UpdateItem ``SET v = :v`` with ``ConditionExpression attribute_exists(pk)``
                  (a read-modify-write: it needs the old item)
- ``query``       Query of one of ``PARTITIONS`` 10-item partitions of ``bench_q``
- ``scan``        Scan of ``bench_kv`` with ``Limit`` 100 (the first page)
- ``mix``         50 % get, 50 % put
- ``put_gsi``     PutItem overwriting one of ``ITEMS`` items of ``bench_gsi``, a table with two
                  GSIs (``g1``, ``g2``, projection ALL), each put carrying both index keys. The
                  requests hold ``GSI_VERSIONS`` versions of every item, each with other index
                  keys, so most puts move both index entries (a put of the item as it already is
                  changes no entry). Run on the server's targets only, beside ``put``.
- ``put_stream``  PutItem overwriting one of ``ITEMS`` items of ``bench_stream``, a table with a
                  ``NEW_AND_OLD_IMAGES`` stream, each put changing the item (two values taking
                  turns), so each one writes a stream record. Server targets only, beside
                  ``put``; ``stream_delay`` (bench/stream_delay.py) then measures how long a
                  record takes from the write's acknowledgement to a reader.
- ``txn2``, ``txn10`` TransactWriteItems of 2 (10) Puts of distinct ``bench_kv`` items, beside
                  ``put``: the report compares items written per second (server targets only).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

WORKLOADS = ("get", "put", "cond_update", "query", "scan", "mix")

ITEMS = 1000
PARTITIONS = 100
PER_PARTITION = 10
SCAN_LIMIT = 100
VALUE = "x" * 100
NEW_VALUE = "y" * 100

KV = "bench_kv"
QUERY = "bench_q"
GSI = "bench_gsi"  # two GSIs, on g1 and on g2, projection ALL
GSI_PROJECTION = "ALL"
GSI_PARTITIONS = 100  # distinct g1 values
GSI_VERSIONS = 4  # versions of each item among the put_gsi requests
GSI_PUT_RUN = f"put@2gsi_{GSI_PROJECTION.lower()}"  # the run report.py compares with "put"
STREAM = "bench_stream"  # a NEW_AND_OLD_IMAGES stream
STREAM_PUT_RUN = "put@stream_new_and_old"
# Conditional-update tables, one per write isolation policy (the system:write_isolation tag).
ISOLATION_TABLES = {
    "always_use_lwt": "bench_iso_always",
    "only_rmw_uses_lwt": "bench_iso_rmw",
    "unsafe_rmw": "bench_iso_unsafe",
}

TARGET = "DynamoDB_20120810."


def key(i: int) -> str:
    return f"k{i:06d}"


def kv_item(i: int, value: str = VALUE) -> dict[str, Any]:
    return {"pk": {"S": key(i)}, "v": {"S": value}}


def query_item(p: int, s: int) -> dict[str, Any]:
    return {"pk": {"S": key(p)}, "sk": {"S": f"s{s:03d}"}, "v": {"S": VALUE}}


def gsi_item(i: int, version: int = 0) -> dict[str, Any]:
    """An item of ``bench_gsi``: ``kv_item`` plus both index keys, which differ by version."""
    return {**kv_item(i), "g1": {"S": f"g{(i + version) % GSI_PARTITIONS:03d}"},
            "g2": {"S": f"{key(i)}.{version}"}}


def create_table_requests(isolation: bool, indexes: bool = False) -> list[dict[str, Any]]:
    """CreateTable bodies: the key-value table, the query table, the isolation tables and, with
    ``indexes``, the tables that keep more than items: two GSIs, a stream."""
    hash_only = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    tables = [
        {"TableName": KV, **hash_only},
        {
            "TableName": QUERY,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ]
    if isolation:
        for policy, name in ISOLATION_TABLES.items():
            tables.append({"TableName": name, **hash_only,
                           "Tags": [{"Key": "system:write_isolation", "Value": policy}]})
    if indexes:
        tables.append({
            "TableName": GSI,
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"}
                                     for a in ("pk", "g1", "g2")],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {"IndexName": f"by_{a}", "KeySchema": [{"AttributeName": a, "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": GSI_PROJECTION}} for a in ("g1", "g2")],
            "BillingMode": "PAY_PER_REQUEST",
        })
        tables.append({"TableName": STREAM, **hash_only, "StreamSpecification": {
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    return tables


def preload(isolation: bool, indexes: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, item) pairs every target is loaded with before the timed runs."""
    kv_tables = [KV, *(ISOLATION_TABLES.values() if isolation else ())]
    for table in kv_tables:
        for i in range(ITEMS):
            yield table, kv_item(i)
    for p in range(PARTITIONS):
        for s in range(PER_PARTITION):
            yield QUERY, query_item(p, s)
    if indexes:
        for i in range(ITEMS):
            yield GSI, gsi_item(i)
            yield STREAM, kv_item(i)


def requests(workload: str, table: str = KV) -> list[tuple[str, dict[str, Any]]]:
    """(operation, body) pairs a workload cycles through, in a fixed shuffled order."""
    rng = random.Random(workload)
    out: list[tuple[str, dict[str, Any]]]
    if workload == "get":
        out = [("GetItem", {"TableName": table, "Key": {"pk": {"S": key(i)}}})
               for i in range(ITEMS)]
    elif workload == "put":
        out = [("PutItem", {"TableName": table, "Item": kv_item(i)}) for i in range(ITEMS)]
    elif workload == "cond_update":
        out = [("UpdateItem", {
            "TableName": table,
            "Key": {"pk": {"S": key(i)}},
            "UpdateExpression": "SET v = :v",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":v": {"S": NEW_VALUE if i % 2 else VALUE}},
        }) for i in range(ITEMS)]
    elif workload == "query":
        out = [("Query", {
            "TableName": QUERY,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": key(p)}},
        }) for p in range(PARTITIONS)]
    elif workload == "scan":
        out = [("Scan", {"TableName": table, "Limit": SCAN_LIMIT})]
    elif workload == "put_gsi":
        # one shuffled round of all items per version, so successive puts of an item mostly
        # carry other index keys than the item has
        out = []
        for version in range(GSI_VERSIONS):
            round_ = [("PutItem", {"TableName": GSI, "Item": gsi_item(i, version)})
                      for i in range(ITEMS)]
            rng.shuffle(round_)
            out += round_
        return out
    elif workload == "put_stream":
        out = []
        for value in (NEW_VALUE, VALUE):  # each round changes every item
            round_ = [("PutItem", {"TableName": STREAM, "Item": kv_item(i, value)})
                      for i in range(ITEMS)]
            rng.shuffle(round_)
            out += round_
        return out
    elif workload in ("txn2", "txn10"):
        size = int(workload[3:])
        keys = list(range(ITEMS))
        rng.shuffle(keys)
        return [("TransactWriteItems", {"TransactItems": [
            {"Put": {"TableName": table, "Item": kv_item(i)}} for i in keys[j:j + size]]})
            for j in range(0, ITEMS - size + 1, size)]
    elif workload == "mix":
        gets, puts = requests("get", table), requests("put", table)
        return [r for pair in zip(gets, puts, strict=True) for r in pair]
    else:
        raise ValueError(f"unknown workload {workload!r}")
    rng.shuffle(out)
    return out


def sign(url: str, access_key: str, secret_key: str, operation: str,
         body: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of one request signed with SigV4 by botocore, as an AWS SDK does."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = json.dumps(body, separators=(",", ":")).encode()
    request = AWSRequest(method="POST", url=url + "/", data=data, headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": TARGET + operation,
    })
    SigV4Auth(Credentials(access_key, secret_key), "dynamodb", "us-east-1").add_auth(request)
    return dict(request.headers.items()), data
