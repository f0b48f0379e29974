"""Secondary indexes, black-box with boto3 on both backends: reads of every projection type,
sparse indexes, N and B keys, local indexes' unprojected attributes, paging, multi-attribute
keys, and every write keeping the indexes right."""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of, unique_table_name


def refused(call: Any) -> tuple[str, str]:
    """The (code, message) of the error a call is answered with."""
    with pytest.raises(ClientError) as caught:
        call()
    return error_of(caught)


def _create(client: Any, keys: list[tuple[str, str, str]], definitions: dict[str, str],
            gsis: list[dict[str, Any]] | None = None, lsis: list[dict[str, Any]] | None = None,
            ) -> str:
    name = unique_table_name("ix")
    extra: dict[str, Any] = {}
    if gsis:
        extra["GlobalSecondaryIndexes"] = gsis
    if lsis:
        extra["LocalSecondaryIndexes"] = lsis
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, k, _ in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                              for n, t in definitions.items()],
        **extra)
    return name


def index(name: str, hash_keys: list[str], range_keys: list[str] | None = None,
          projection: str = "ALL", include: list[str] | None = None) -> dict[str, Any]:
    key_schema = [{"AttributeName": n, "KeyType": "HASH"} for n in hash_keys]
    key_schema += [{"AttributeName": n, "KeyType": "RANGE"} for n in range_keys or []]
    proj: dict[str, Any] = {"ProjectionType": projection}
    if include is not None:
        proj["NonKeyAttributes"] = include
    return {"IndexName": name, "KeySchema": key_schema, "Projection": proj}


def query_all(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan_all(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture(scope="module")
def gsi_table(dynamodb: Any) -> Any:
    """p (S) key; GSIs: all_ix on (g S, s N) ALL, keys_ix on g KEYS_ONLY, inc_ix on (g, s)
    INCLUDE [x]."""
    name = _create(dynamodb, [("p", "HASH", "S")], {"p": "S", "g": "S", "s": "N"}, gsis=[
        index("all_ix", ["g"], ["s"]),
        index("keys_ix", ["g"], projection="KEYS_ONLY"),
        index("inc_ix", ["g"], ["s"], "INCLUDE", ["x"]),
    ])
    yield name
    dynamodb.delete_table(TableName=name)


def _eq(name: str) -> dict[str, Any]:
    return {"KeyConditionExpression": "#k = :v", "ExpressionAttributeNames": {"#k": name}}


def test_gsi_projections(dynamodb: Any, gsi_table: str) -> None:
    for i in range(5):
        dynamodb.put_item(TableName=gsi_table, Item={
            "p": {"S": f"p{i}"}, "g": {"S": "G"}, "s": {"N": str(10 - i)},
            "x": {"S": f"x{i}"}, "y": {"S": f"y{i}"}})
    dynamodb.put_item(TableName=gsi_table, Item={"p": {"S": "other"}, "g": {"S": "H"},
                                                 "s": {"N": "1"}})
    values = {":v": {"S": "G"}}
    full = query_all(dynamodb, TableName=gsi_table, IndexName="all_ix",
                     ExpressionAttributeValues=values, **_eq("g"))
    assert [i["s"]["N"] for i in full] == ["6", "7", "8", "9", "10"]  # index sort order
    assert full[0] == {"p": {"S": "p4"}, "g": {"S": "G"}, "s": {"N": "6"}, "x": {"S": "x4"},
                       "y": {"S": "y4"}}
    keys = query_all(dynamodb, TableName=gsi_table, IndexName="keys_ix",
                     ExpressionAttributeValues=values, **_eq("g"))
    assert sorted(i["p"]["S"] for i in keys) == [f"p{i}" for i in range(5)]
    assert all(set(i) == {"p", "g"} for i in keys)
    included = query_all(dynamodb, TableName=gsi_table, IndexName="inc_ix",
                         ExpressionAttributeValues=values, ScanIndexForward=False, **_eq("g"))
    assert [i["s"]["N"] for i in included] == ["10", "9", "8", "7", "6"]
    assert all(set(i) == {"p", "g", "s", "x"} for i in included)
    assert included[0]["x"] == {"S": "x0"}
    # What a GSI does not project is not there to ask for.
    error = refused(lambda: dynamodb.query(TableName=gsi_table, IndexName="inc_ix",
                                            Select="ALL_ATTRIBUTES",
                                            ExpressionAttributeValues=values, **_eq("g")))
    assert error == ("ValidationException", "One or more parameter values were invalid: "
                     "Select type ALL_ATTRIBUTES is not supported for global secondary index "
                     "inc_ix because its projection type is not ALL")
    # Consistent reads are not for global indexes.
    error = refused(lambda: dynamodb.query(TableName=gsi_table, IndexName="all_ix",
                                            ConsistentRead=True,
                                            ExpressionAttributeValues=values, **_eq("g")))
    assert error == ("ValidationException",
                     "Consistent reads are not supported on global secondary indexes")
    counted = dynamodb.query(TableName=gsi_table, IndexName="all_ix", Select="COUNT",
                             KeyConditionExpression="g = :v AND s BETWEEN :a AND :b",
                             ExpressionAttributeValues={**values, ":a": {"N": "7"},
                                                        ":b": {"N": "9"}})
    assert counted["Count"] == 3


def test_sparse_index_follows_every_write(dynamodb: Any, gsi_table: str) -> None:
    values = {":v": {"S": "sparse"}}

    def members() -> list[str]:
        return sorted(i["p"]["S"] for i in query_all(
            dynamodb, TableName=gsi_table, IndexName="keys_ix",
            ExpressionAttributeValues=values, **_eq("g")))

    dynamodb.put_item(TableName=gsi_table, Item={"p": {"S": "sp1"}, "g": {"S": "sparse"}})
    dynamodb.put_item(TableName=gsi_table, Item={"p": {"S": "sp2"}})  # no g: not in the index
    assert members() == ["sp1"]
    dynamodb.update_item(TableName=gsi_table, Key={"p": {"S": "sp2"}},
                         UpdateExpression="SET g = :v", ExpressionAttributeValues=values)
    assert members() == ["sp1", "sp2"]
    dynamodb.update_item(TableName=gsi_table, Key={"p": {"S": "sp1"}},
                         UpdateExpression="REMOVE g")
    assert members() == ["sp2"]
    dynamodb.update_item(TableName=gsi_table, Key={"p": {"S": "sp2"}},
                         UpdateExpression="SET g = :w", ExpressionAttributeValues={
                             ":w": {"S": "moved"}})
    assert members() == []
    dynamodb.batch_write_item(RequestItems={gsi_table: [
        {"PutRequest": {"Item": {"p": {"S": "sp3"}, "g": {"S": "sparse"}}}},
        {"PutRequest": {"Item": {"p": {"S": "sp4"}, "g": {"S": "sparse"}}}},
        {"DeleteRequest": {"Key": {"p": {"S": "sp2"}}}}]})
    assert members() == ["sp3", "sp4"]
    dynamodb.delete_item(TableName=gsi_table, Key={"p": {"S": "sp3"}})
    assert members() == ["sp4"]
    moved = query_all(dynamodb, TableName=gsi_table, IndexName="keys_ix",
                      ExpressionAttributeValues={":v": {"S": "moved"}}, **_eq("g"))
    assert moved == []  # sp2 was deleted by the batch


def test_index_key_values_are_checked_on_write(dynamodb: Any, gsi_table: str) -> None:
    error = refused(lambda: dynamodb.put_item(TableName=gsi_table, Item={
        "p": {"S": "bad"}, "g": {"N": "1"}}))
    assert error == ("ValidationException", "One or more parameter values were invalid: Type "
                     "mismatch for Index Key g Expected: S Actual: N IndexName: all_ix")
    error = refused(lambda: dynamodb.update_item(
        TableName=gsi_table, Key={"p": {"S": "bad"}}, UpdateExpression="SET s = :v",
        ExpressionAttributeValues={":v": {"S": "text"}}))
    assert error[0] == "ValidationException"
    assert "Type mismatch for Index Key s Expected: N Actual: S" in error[1]
    error = refused(lambda: dynamodb.put_item(TableName=gsi_table, Item={
        "p": {"S": "bad"}, "g": {"S": ""}}))
    assert error[0] == "ValidationException"
    assert "IndexName: all_ix, IndexKey: g" in error[1]
    error = refused(lambda: dynamodb.batch_write_item(RequestItems={gsi_table: [
        {"PutRequest": {"Item": {"p": {"S": "fine"}, "g": {"S": "ok"}}}},
        {"PutRequest": {"Item": {"p": {"S": "bad"}, "g": {"B": b"x"}}}}]}))
    assert error[0] == "ValidationException"
    # Nothing of a refused write happened.
    assert "Item" not in dynamodb.get_item(TableName=gsi_table, Key={"p": {"S": "bad"}})
    assert "Item" not in dynamodb.get_item(TableName=gsi_table, Key={"p": {"S": "fine"}})


@pytest.mark.parametrize("kind", ["N", "B", "S"])
def test_range_conditions_on_index_keys(dynamodb: Any, kind: str) -> None:
    name = _create(dynamodb, [("p", "HASH", "S")], {"p": "S", "g": "S", "k": kind},
                   gsis=[index("by_k", ["g"], ["k"])])
    try:
        if kind == "N":
            raw = ["-10", "-1.5", "0", "0.25", "3", "12", "100"]
            values = [{"N": v} for v in raw]
        elif kind == "B":
            raw = [b"\x00", b"\x00\x00", b"\x00\x01", b"\x01", b"a", b"ab", b"\xff"]
            values = [{"B": v} for v in raw]
        else:
            raw = ["", "a", "a\x00", "ab", "abc", "b", "\u00e9"][1:]
            values = [{"S": v} for v in raw]
        shuffled = list(enumerate(values))
        random.shuffle(shuffled)
        for i, value in shuffled:
            dynamodb.put_item(TableName=name, Item={"p": {"S": f"p{i}"}, "g": {"S": "G"},
                                                    "k": value})

        def keys(condition: str, **vals: Any) -> list[int]:
            items = query_all(dynamodb, TableName=name, IndexName="by_k",
                              KeyConditionExpression="g = :g AND " + condition,
                              ExpressionAttributeValues={":g": {"S": "G"}, **vals})
            return [int(i["p"]["S"][1:]) for i in items]

        n = len(values)
        mid = values[2]
        assert keys("k = :v", **{":v": mid}) == [2]
        assert keys("k < :v", **{":v": mid}) == [0, 1]
        assert keys("k <= :v", **{":v": mid}) == [0, 1, 2]
        assert keys("k > :v", **{":v": mid}) == list(range(3, n))
        assert keys("k >= :v", **{":v": mid}) == list(range(2, n))
        assert keys("k BETWEEN :a AND :b", **{":a": values[1], ":b": values[4]}) == [1, 2, 3, 4]
        if kind == "S":
            assert keys("begins_with(k, :v)", **{":v": {"S": "a"}}) == [0, 1, 2, 3]
            assert keys("begins_with(k, :v)", **{":v": {"S": "ab"}}) == [2, 3]
        if kind == "B":
            assert keys("begins_with(k, :v)", **{":v": {"B": b"\x00"}}) == [0, 1, 2]
    finally:
        dynamodb.delete_table(TableName=name)


def test_paging_through_an_index(dynamodb: Any) -> None:
    name = _create(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")],
                   {"p": "S", "c": "N", "g": "S", "s": "N"},
                   gsis=[index("by_g", ["g"], ["s"], "KEYS_ONLY"),
                         index("by_g_only", ["g"], projection="KEYS_ONLY")])
    try:
        expected = []
        with_batches = [{"PutRequest": {"Item": {"p": {"S": f"p{i % 3}"}, "c": {"N": str(i)},
                                                 "g": {"S": "G"}, "s": {"N": str(i % 10)}}}}
                        for i in range(60)]
        for start in range(0, 60, 25):
            dynamodb.batch_write_item(RequestItems={name: with_batches[start:start + 25]})
        expected = sorted(range(60), key=lambda i: i % 10)
        seen: list[int] = []
        kwargs: dict[str, Any] = {"TableName": name, "IndexName": "by_g", "Limit": 7,
                                  "KeyConditionExpression": "g = :g",
                                  "ExpressionAttributeValues": {":g": {"S": "G"}}}
        pages = 0
        while True:
            page = dynamodb.query(**kwargs)
            pages += 1
            seen += [int(i["c"]["N"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            assert set(page["LastEvaluatedKey"]) == {"p", "c", "g", "s"}
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        assert pages >= 9
        assert sorted(seen) == list(range(60))
        assert [i % 10 for i in seen] == [i % 10 for i in expected]  # index sort order
        backwards = query_all(dynamodb, TableName=name, IndexName="by_g", Limit=11,
                              ScanIndexForward=False, KeyConditionExpression="g = :g",
                              ExpressionAttributeValues={":g": {"S": "G"}})
        assert [int(i["s"]["N"]) for i in backwards] == sorted(
            (i % 10 for i in range(60)), reverse=True)
        # An index without a sort key: every item once, through pages.
        only = query_all(dynamodb, TableName=name, IndexName="by_g_only", Limit=13,
                         KeyConditionExpression="g = :g",
                         ExpressionAttributeValues={":g": {"S": "G"}})
        assert sorted(int(i["c"]["N"]) for i in only) == list(range(60))
        # Scans of an index, plain and parallel, paged.
        scanned = scan_all(dynamodb, TableName=name, IndexName="by_g", Limit=9)
        assert sorted(int(i["c"]["N"]) for i in scanned) == list(range(60))
        parts = [scan_all(dynamodb, TableName=name, IndexName="by_g", Limit=5, Segment=s,
                          TotalSegments=3) for s in range(3)]
        assert sorted(int(i["c"]["N"]) for part in parts for i in part) == list(range(60))
        filtered = scan_all(dynamodb, TableName=name, IndexName="by_g",
                            FilterExpression="s = :s", ExpressionAttributeValues={
                                ":s": {"N": "3"}})
        assert sorted(int(i["c"]["N"]) for i in filtered) == [3, 13, 23, 33, 43, 53]
    finally:
        dynamodb.delete_table(TableName=name)


def test_local_index_reads_unprojected_attributes(dynamodb: Any) -> None:
    name = _create(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "S")],
                   {"p": "S", "c": "S", "l": "N"},
                   lsis=[index("by_l", ["p"], ["l"], "KEYS_ONLY")])
    try:
        for i in range(4):
            dynamodb.put_item(TableName=name, Item={"p": {"S": "P"}, "c": {"S": f"c{i}"},
                                                    "l": {"N": str(-i)}, "x": {"S": f"x{i}"}})
        values = {":p": {"S": "P"}}
        projected = query_all(dynamodb, TableName=name, IndexName="by_l",
                              KeyConditionExpression="p = :p", ExpressionAttributeValues=values)
        assert [i["c"]["S"] for i in projected] == ["c3", "c2", "c1", "c0"]
        assert all(set(i) == {"p", "c", "l"} for i in projected)
        full = query_all(dynamodb, TableName=name, IndexName="by_l", Select="ALL_ATTRIBUTES",
                         ConsistentRead=True, KeyConditionExpression="p = :p",
                         ExpressionAttributeValues=values)
        assert [i["x"]["S"] for i in full] == ["x3", "x2", "x1", "x0"]
        picked = query_all(dynamodb, TableName=name, IndexName="by_l",
                           ProjectionExpression="x", KeyConditionExpression="p = :p AND l < :z",
                           ExpressionAttributeValues={**values, ":z": {"N": "-1"}})
        assert picked == [{"x": {"S": "x3"}}, {"x": {"S": "x2"}}]
        filtered = query_all(dynamodb, TableName=name, IndexName="by_l",
                             FilterExpression="x = :x", KeyConditionExpression="p = :p",
                             ExpressionAttributeValues={**values, ":x": {"S": "x1"}})
        assert filtered == [{"p": {"S": "P"}, "c": {"S": "c1"}, "l": {"N": "-1"}}]
        described = dynamodb.describe_table(TableName=name)["Table"]
        (lsi,) = described["LocalSecondaryIndexes"]
        assert lsi["IndexName"] == "by_l"
        assert lsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}
        assert lsi["IndexArn"].endswith(f"table/{name}/index/by_l")
        assert "IndexStatus" not in lsi
    finally:
        dynamodb.delete_table(TableName=name)


def test_multi_attribute_keys(dynamodb: Any) -> None:
    name = _create(dynamodb, [("p", "HASH", "S")],
                   {"p": "S", "t": "S", "r": "S", "y": "N", "m": "N"},
                   gsis=[index("multi", ["t", "r"], ["y", "m"])])
    try:
        n = 0
        for t in ("A", "B"):
            for y in (2023, 2024):
                for m in (1, 5, 12):
                    dynamodb.put_item(TableName=name, Item={
                        "p": {"S": f"p{n}"}, "t": {"S": t}, "r": {"S": "eu"},
                        "y": {"N": str(y)}, "m": {"N": str(m)}})
                    n += 1
        values = {":t": {"S": "A"}, ":r": {"S": "eu"}}

        def months(condition: str, **extra: Any) -> list[tuple[int, int]]:
            items = query_all(dynamodb, TableName=name, IndexName="multi",
                              KeyConditionExpression=condition,
                              ExpressionAttributeValues={**values, **extra})
            return [(int(i["y"]["N"]), int(i["m"]["N"])) for i in items]

        everything = [(y, m) for y in (2023, 2024) for m in (1, 5, 12)]
        assert months("t = :t AND r = :r") == everything
        assert months("t = :t AND r = :r AND y = :y", **{":y": {"N": "2024"}}) == \
            everything[3:]
        assert months("t = :t AND r = :r AND y = :y AND m >= :m",
                      **{":y": {"N": "2023"}, ":m": {"N": "5"}}) == [(2023, 5), (2023, 12)]
        assert months("t = :t AND r = :r AND y > :y", **{":y": {"N": "2023"}}) == \
            everything[3:]
        # Every partition-key attribute is required; sort-key attributes left to right.
        error = refused(lambda: dynamodb.query(
            TableName=name, IndexName="multi", KeyConditionExpression="t = :t",
            ExpressionAttributeValues={":t": {"S": "A"}}))
        assert error[0] == "ValidationException"
        error = refused(lambda: dynamodb.query(
            TableName=name, IndexName="multi",
            KeyConditionExpression="t = :t AND r = :r AND m = :m",
            ExpressionAttributeValues={**values, ":m": {"N": "1"}}))
        assert error[0] == "ValidationException"
        error = refused(lambda: dynamodb.query(
            TableName=name, IndexName="multi",
            KeyConditionExpression="t = :t AND r = :r AND y > :y AND m = :m",
            ExpressionAttributeValues={**values, ":y": {"N": "1"}, ":m": {"N": "1"}}))
        assert error[0] == "ValidationException"
        described = dynamodb.describe_table(TableName=name)["Table"]
        (gsi,) = described["GlobalSecondaryIndexes"]
        assert gsi["KeySchema"] == [
            {"AttributeName": "t", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "HASH"},
            {"AttributeName": "y", "KeyType": "RANGE"},
            {"AttributeName": "m", "KeyType": "RANGE"}]
        # An item missing any one key attribute is not in the index.
        dynamodb.put_item(TableName=name, Item={"p": {"S": "partial"}, "t": {"S": "A"},
                                                "r": {"S": "eu"}, "y": {"N": "2023"}})
        assert months("t = :t AND r = :r") == everything
    finally:
        dynamodb.delete_table(TableName=name)


def test_describe_global_index(dynamodb: Any, gsi_table: str) -> None:
    table = dynamodb.describe_table(TableName=gsi_table)["Table"]
    by_name = {ix["IndexName"]: ix for ix in table["GlobalSecondaryIndexes"]}
    assert set(by_name) == {"all_ix", "keys_ix", "inc_ix"}
    inc = by_name["inc_ix"]
    assert inc["KeySchema"] == [{"AttributeName": "g", "KeyType": "HASH"},
                                {"AttributeName": "s", "KeyType": "RANGE"}]
    assert inc["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}
    assert inc["IndexStatus"] == "ACTIVE"
    assert inc["IndexArn"] == table["TableArn"] + "/index/inc_ix"
    assert "Backfilling" not in inc
    assert {"IndexSizeBytes", "ItemCount", "ProvisionedThroughput"} <= set(inc)
    assert table["TableStatus"] == "ACTIVE"


def test_unknown_index(dynamodb: Any, gsi_table: str) -> None:
    for call in (lambda: dynamodb.query(TableName=gsi_table, IndexName="nope",
                                        KeyConditionExpression="g = :v",
                                        ExpressionAttributeValues={":v": {"S": "x"}}),
                 lambda: dynamodb.scan(TableName=gsi_table, IndexName="nope")):
        assert refused(call) == ("ValidationException",
                                  "The table does not have the specified index: nope")


def test_consumed_capacity_of_indexes(dynamodb: Any, gsi_table: str) -> None:
    """ReturnConsumedCapacity INDEXES: a write costs each index whose entry it changes (two when
    the index key moves), a read of an index costs the index, and TOTAL sums them."""
    p = {"S": "cap-1"}

    def put(mode: str, **attrs: Any) -> dict[str, Any]:
        return dict(dynamodb.put_item(TableName=gsi_table, ReturnConsumedCapacity=mode,
                                      Item={"p": p, **attrs})["ConsumedCapacity"])

    def one(units: float) -> dict[str, float]:
        return {"CapacityUnits": units, "WriteCapacityUnits": units}

    first = put("INDEXES", g={"S": "cap"}, s={"N": "1"}, x={"S": "x"})
    assert first == {"TableName": gsi_table, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0,
                     "Table": one(1.0), "GlobalSecondaryIndexes": {
                         "all_ix": one(1.0), "keys_ix": one(1.0), "inc_ix": one(1.0)}}
    # y is projected only into all_ix: the other entries stay as they are.
    second = put("INDEXES", g={"S": "cap"}, s={"N": "1"}, x={"S": "x"}, y={"S": "y"})
    assert second["GlobalSecondaryIndexes"] == {"all_ix": one(1.0)}
    assert second["CapacityUnits"] == 2.0
    moved = put("INDEXES", g={"S": "cap2"}, s={"N": "1"}, x={"S": "x"}, y={"S": "y"})
    assert moved["GlobalSecondaryIndexes"] == {
        "all_ix": one(2.0), "keys_ix": one(2.0), "inc_ix": one(2.0)}
    assert moved["CapacityUnits"] == 7.0
    # s is the sort key of all_ix and inc_ix (each moves: two writes) and not in keys_ix.
    total = put("TOTAL", g={"S": "cap2"}, s={"N": "2"}, x={"S": "x"}, y={"S": "y"})
    assert total == {"TableName": gsi_table, "CapacityUnits": 5.0, "WriteCapacityUnits": 5.0}
    deleted = dynamodb.delete_item(TableName=gsi_table, Key={"p": p},
                                   ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert deleted["CapacityUnits"] == 4.0
    assert set(deleted["GlobalSecondaryIndexes"]) == {"all_ix", "keys_ix", "inc_ix"}

    read = dynamodb.query(TableName=gsi_table, IndexName="all_ix", **_eq("g"),
                          ExpressionAttributeValues={":v": {"S": "cap2"}},
                          ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert read == {"TableName": gsi_table, "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5,
                    "Table": {"CapacityUnits": 0.0, "ReadCapacityUnits": 0.0},
                    "GlobalSecondaryIndexes": {
                        "all_ix": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}}}
    scanned = dynamodb.scan(TableName=gsi_table, IndexName="keys_ix",
                            ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert set(scanned) == {"TableName", "CapacityUnits", "ReadCapacityUnits"}


def test_transaction_capacity_of_indexes(dynamodb: Any, gsi_table: str) -> None:
    """TransactWriteItems charges twice what the same single writes cost, in the table and
    in each index whose entry they change; TOTAL sums them; a condition check costs no index."""
    p = {"p": {"S": "tcap-1"}}
    item = {**p, "g": {"S": "tcap"}, "s": {"N": "1"}, "x": {"S": "x"}}
    put = dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": gsi_table, "Item": item}}],
        ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    two = {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}
    assert put == [{"TableName": gsi_table, "CapacityUnits": 8.0, "WriteCapacityUnits": 8.0,
                    "Table": two, "GlobalSecondaryIndexes": {
                        "all_ix": two, "keys_ix": two, "inc_ix": two}}]
    # y is projected only into all_ix; the condition check reads another item.
    checked = dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": gsi_table, "Item": {**item, "y": {"S": "y"}}}},
        {"ConditionCheck": {"TableName": gsi_table, "Key": {"p": {"S": "tcap-2"}},
                            "ConditionExpression": "attribute_not_exists(p)"}}],
        ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert checked[0]["GlobalSecondaryIndexes"] == {"all_ix": two}
    assert checked[0]["Table"] == {"CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}
    deleted = dynamodb.transact_write_items(
        TransactItems=[{"Delete": {"TableName": gsi_table, "Key": p}}],
        ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert deleted == [{"TableName": gsi_table, "CapacityUnits": 8.0, "WriteCapacityUnits": 8.0}]


def test_delete_table_describes_its_indexes(dynamodb: Any) -> None:
    name = _create(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")],
                   {"p": "S", "c": "N", "g": "S"}, gsis=[index("gix", ["g"])],
                   lsis=[index("lix", ["p"], ["g"], "KEYS_ONLY")])
    deleted = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    (gsi,) = deleted["GlobalSecondaryIndexes"]
    (lsi,) = deleted["LocalSecondaryIndexes"]
    assert (gsi["IndexName"], gsi["Projection"]) == ("gix", {"ProjectionType": "ALL"})
    assert (lsi["IndexName"], lsi["Projection"]) == ("lix", {"ProjectionType": "KEYS_ONLY"})
    assert lsi["IndexArn"] == deleted["TableArn"] + "/index/lix"


def test_batch_write_capacity_of_indexes(dynamodb: Any, gsi_table: str) -> None:
    """BatchWriteItem charges the index entries its puts and deletes change, per table."""
    items = [{"p": {"S": f"bcap-{i}"}, "g": {"S": "bcap"}, "s": {"N": str(i)}} for i in range(3)]
    put = dynamodb.batch_write_item(
        RequestItems={gsi_table: [{"PutRequest": {"Item": item}} for item in items]},
        ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    units = {"CapacityUnits": 3.0, "WriteCapacityUnits": 3.0}
    assert put == [{"TableName": gsi_table, "CapacityUnits": 12.0, "WriteCapacityUnits": 12.0,
                    "Table": units, "GlobalSecondaryIndexes": {
                        "all_ix": units, "keys_ix": units, "inc_ix": units}}]
    deleted = dynamodb.batch_write_item(
        RequestItems={gsi_table: [{"DeleteRequest": {"Key": {"p": item["p"]}}}
                                  for item in items[:2]]},
        ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert deleted == [{"TableName": gsi_table, "CapacityUnits": 8.0, "WriteCapacityUnits": 8.0}]
