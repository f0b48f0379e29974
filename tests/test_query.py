"""Query through boto3, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of, new_key

KB = 1024



def full_query(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a Query, following LastEvaluatedKey."""
    items: list[dict[str, Any]] = []
    while True:
        response = client.query(**kwargs)
        items += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def by_partition(table: str, p: str, **kwargs: Any) -> dict[str, Any]:
    return {"TableName": table, "KeyConditionExpression": "p = :p",
            "ExpressionAttributeValues": {":p": {"S": p}}, **kwargs}


@pytest.fixture(scope="module")
def table_ss(dynamodb: Any) -> Iterator[str]:
    """p (S) and a string sort key c."""
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "S")])
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def table_sb(dynamodb: Any) -> Iterator[str]:
    """p (S) and a binary sort key c."""
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "B")])
    yield name
    dynamodb.delete_table(TableName=name)


NUMBERS = ["-100", "-7.5", "-7", "-0.001", "0", "0.001", "1", "1.5", "2", "10", "99.99", "100000"]


@pytest.fixture(scope="module")
def numbers(dynamodb: Any, table_hash_range: str) -> str:
    """A partition of table_hash_range whose sort keys are NUMBERS, each with a value v."""
    p = new_key()
    for i, c in enumerate(NUMBERS):
        dynamodb.put_item(TableName=table_hash_range,
                          Item={"p": {"S": p}, "c": {"N": c}, "v": {"N": str(i)}})
    return p


def sort_keys(items: list[dict[str, Any]], kind: str = "N") -> list[Any]:
    return [item["c"][kind] for item in items]


# --- ordering and key conditions --------------------------------------------------------------


def test_query_returns_partition_in_sort_key_order(dynamodb: Any, table_hash_range: str,
                                                   numbers: str) -> None:
    items = full_query(dynamodb, **by_partition(table_hash_range, numbers))
    assert [Decimal(c) for c in sort_keys(items)] == sorted(Decimal(c) for c in NUMBERS)
    backwards = full_query(dynamodb, **by_partition(table_hash_range, numbers),
                           ScanIndexForward=False)
    assert backwards == items[::-1]


@pytest.mark.parametrize("condition, values, expected", [
    ("c = :a", ["-7.5"], lambda x: x == Decimal("-7.5")),
    ("c < :a", ["-0.001"], lambda x: x < Decimal("-0.001")),
    ("c <= :a", ["-7"], lambda x: x <= Decimal("-7")),
    ("c > :a", ["1.5"], lambda x: x > Decimal("1.5")),
    ("c >= :a", ["0"], lambda x: x >= 0),
    (":a < c", ["1"], lambda x: x > 1),
    ("c BETWEEN :a AND :b", ["-7.5", "0.001"],
     lambda x: Decimal("-7.5") <= x <= Decimal("0.001")),
    ("c BETWEEN :a AND :b", ["-1000", "-50"], lambda x: -1000 <= x <= -50),
    ("c BETWEEN :a AND :b", ["2", "2"], lambda x: x == 2),
])
def test_number_sort_key_operators(dynamodb: Any, table_hash_range: str, numbers: str,
                                   condition: str, values: list[str], expected: Any) -> None:
    names = [":a", ":b"]
    request = {
        "TableName": table_hash_range,
        "KeyConditionExpression": f"p = :p AND {condition}",
        "ExpressionAttributeValues": {":p": {"S": numbers},
                                      **{names[i]: {"N": v} for i, v in enumerate(values)}},
    }
    want = sorted(Decimal(c) for c in NUMBERS if expected(Decimal(c)))
    for forward in (True, False):
        got = [Decimal(c) for c in sort_keys(full_query(dynamodb, **request,
                                                        ScanIndexForward=forward))]
        assert got == (want if forward else want[::-1])
        # The same with small pages: Limit and ExclusiveStartKey keep the key condition.
        paged = [Decimal(c) for c in sort_keys(full_query(dynamodb, **request, Limit=2,
                                                          ScanIndexForward=forward))]
        assert paged == got


STRINGS = ["", "a", "ab", "abc", "abd", "b", "ba", "\u00e9", "\u00e9a", "\U0001f600", "\U0001f600x"]


def test_string_sort_key_operators(dynamodb: Any, table_ss: str) -> None:
    p = new_key()
    keys = [s for s in STRINGS if s]
    for c in keys:
        dynamodb.put_item(TableName=table_ss, Item={"p": {"S": p}, "c": {"S": c}})
    utf8 = sorted(keys, key=lambda s: s.encode())

    def run(condition: str, **values: str) -> list[str]:
        return sort_keys(full_query(
            dynamodb, TableName=table_ss, KeyConditionExpression=f"p = :p AND {condition}",
            ExpressionAttributeValues={":p": {"S": p},
                                       **{f":{k}": {"S": v} for k, v in values.items()}},
        ), "S")

    assert sort_keys(full_query(dynamodb, **by_partition(table_ss, p)), "S") == utf8
    assert run("begins_with(c, :x)", x="ab") == ["ab", "abc", "abd"]
    assert run("begins_with(c, :x)", x="a") == ["a", "ab", "abc", "abd"]
    assert run("begins_with(c, :x)", x="\u00e9") == ["\u00e9", "\u00e9a"]
    assert run("begins_with(c, :x)", x="\U0001f600") == ["\U0001f600", "\U0001f600x"]
    assert run("begins_with(c, :x)", x="zz") == []
    assert run("c BETWEEN :x AND :y", x="ab", y="b") == ["ab", "abc", "abd", "b"]
    assert run("c > :x", x="b") == [s for s in utf8 if s.encode() > b"b"]
    assert run("c < :x", x="ab") == ["a"]


def test_binary_sort_key_begins_with(dynamodb: Any, table_sb: str) -> None:
    p = new_key()
    keys = [b"\x00", b"\x00\x01", b"\x01", b"\x01\xff", b"\x01\xff\x00", b"\x02", b"\xff",
            b"\xff\xff", b"\xff\xff\x01"]
    for c in keys:
        dynamodb.put_item(TableName=table_sb, Item={"p": {"S": p}, "c": {"B": c}})

    def run(condition: str, **values: bytes) -> list[bytes]:
        return sort_keys(full_query(
            dynamodb, TableName=table_sb, KeyConditionExpression=f"p = :p AND {condition}",
            ExpressionAttributeValues={":p": {"S": p},
                                       **{f":{k}": {"B": v} for k, v in values.items()}},
        ), "B")

    assert sort_keys(full_query(dynamodb, **by_partition(table_sb, p)), "B") == keys
    assert run("begins_with(c, :x)", x=b"\x01") == [b"\x01", b"\x01\xff", b"\x01\xff\x00"]
    assert run("begins_with(c, :x)", x=b"\x01\xff") == [b"\x01\xff", b"\x01\xff\x00"]
    assert run("begins_with(c, :x)", x=b"\xff") == [b"\xff", b"\xff\xff", b"\xff\xff\x01"]
    assert run("begins_with(c, :x)", x=b"\xff\xff") == [b"\xff\xff", b"\xff\xff\x01"]
    assert run("c BETWEEN :x AND :y", x=b"\x00\x01", y=b"\x01\xff") == [
        b"\x00\x01", b"\x01", b"\x01\xff"]


def test_legacy_key_conditions(dynamodb: Any, table_hash_range: str, numbers: str) -> None:
    items = full_query(dynamodb, TableName=table_hash_range, KeyConditions={
        "p": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": numbers}]},
        "c": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "-7"}, {"N": "1"}]},
    })
    assert sort_keys(items) == ["-7", "-0.001", "0", "0.001", "1"]


def test_hash_only_table(dynamodb: Any, table_hash: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table_hash, Item={"p": {"S": p}, "a": {"S": "x"}})
    response = dynamodb.query(**by_partition(table_hash, p))
    assert response["Items"] == [{"p": {"S": p}, "a": {"S": "x"}}]
    assert "LastEvaluatedKey" not in response
    first = dynamodb.query(**by_partition(table_hash, p), Limit=1)
    assert first["LastEvaluatedKey"] == {"p": {"S": p}}
    rest = dynamodb.query(**by_partition(table_hash, p), Limit=1,
                          ExclusiveStartKey=first["LastEvaluatedKey"])
    assert rest["Items"] == [] and "LastEvaluatedKey" not in rest


# --- Limit, paging, counts --------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 5, 11, 12, 100])
def test_limit_pages(dynamodb: Any, table_hash_range: str, numbers: str, limit: int) -> None:
    request = by_partition(table_hash_range, numbers, Limit=limit)
    pages = 0
    items: list[dict[str, Any]] = []
    while True:
        response = dynamodb.query(**request)
        pages += 1
        assert len(response["Items"]) <= limit
        assert response["Count"] == response["ScannedCount"] == len(response["Items"])
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            break
        assert response["LastEvaluatedKey"] == {k: items[-1][k] for k in ("p", "c")}
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    assert [i["c"]["N"] for i in items] == NUMBERS
    # A page that read exactly Limit items has a LastEvaluatedKey, even at the very end.
    assert pages == len(NUMBERS) // limit + 1


def test_limit_equal_to_item_count(dynamodb: Any, table_hash_range: str, numbers: str) -> None:
    response = dynamodb.query(**by_partition(table_hash_range, numbers, Limit=len(NUMBERS)))
    assert len(response["Items"]) == len(NUMBERS)
    assert response["LastEvaluatedKey"] == {"p": {"S": numbers}, "c": {"N": NUMBERS[-1]}}
    rest = dynamodb.query(**by_partition(table_hash_range, numbers),
                          ExclusiveStartKey=response["LastEvaluatedKey"])
    assert rest["Items"] == [] and rest["Count"] == 0 and "LastEvaluatedKey" not in rest


def test_limit_counts_items_before_filter(dynamodb: Any, table_hash_range: str,
                                          numbers: str) -> None:
    # v is the index of the item: keep the even ones.
    request = by_partition(table_hash_range, numbers, Limit=5,
                           FilterExpression="v IN (:v0, :v2, :v4, :v6, :v8, :v10)")
    request["ExpressionAttributeValues"].update(
        {f":v{i}": {"N": str(i)} for i in range(0, 11, 2)})
    response = dynamodb.query(**request)
    assert response["ScannedCount"] == 5
    assert response["Count"] == 3
    assert [i["v"]["N"] for i in response["Items"]] == ["0", "2", "4"]
    assert response["LastEvaluatedKey"]["c"] == {"N": NUMBERS[4]}
    assert [i["v"]["N"] for i in full_query(dynamodb, **request)] == [
        str(i) for i in range(0, 11, 2)]


def test_filter_without_limit(dynamodb: Any, table_hash_range: str, numbers: str) -> None:
    request = by_partition(table_hash_range, numbers, FilterExpression="v > :v")
    request["ExpressionAttributeValues"][":v"] = {"N": "8"}
    response = dynamodb.query(**request)
    assert response["ScannedCount"] == len(NUMBERS)
    assert response["Count"] == 3
    assert "LastEvaluatedKey" not in response


def test_legacy_query_filter(dynamodb: Any, table_hash_range: str, numbers: str) -> None:
    base = {"TableName": table_hash_range, "KeyConditions": {
        "p": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": numbers}]}}}
    response = dynamodb.query(**base, QueryFilter={
        "v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "2"}]},
        "w": {"ComparisonOperator": "NULL"},
    })
    assert [i["v"]["N"] for i in response["Items"]] == ["0", "1"]
    response = dynamodb.query(**base, ConditionalOperator="OR", QueryFilter={
        "v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "1"}]},
        "w": {"ComparisonOperator": "NOT_NULL"},
    })
    assert [i["v"]["N"] for i in response["Items"]] == ["0"]


def test_one_megabyte_pages(dynamodb: Any, table_hash_range: str) -> None:
    """A page stops once 1 MB of items was read; the item crossing the line is included."""
    p = new_key()
    big = "x" * (300 * KB)
    expected = []
    for c in range(12):
        item = {"p": {"S": p}, "c": {"N": str(c)}}
        if c % 2 == 0:
            item["big"] = {"S": big}
        dynamodb.put_item(TableName=table_hash_range, Item=item)
        expected.append(item)
    first = dynamodb.query(**by_partition(table_hash_range, p))
    # Items 0, 2, 4 and 6 are big: the fourth crosses 1 MB, at item 6.
    assert first["ScannedCount"] == 7
    assert first["LastEvaluatedKey"] == {"p": {"S": p}, "c": {"N": "6"}}
    assert full_query(dynamodb, **by_partition(table_hash_range, p)) == expected
    # Select=COUNT and a filter that drops everything read the same pages.
    count = dynamodb.query(**by_partition(table_hash_range, p), Select="COUNT")
    assert (count["Count"], count["ScannedCount"]) == (7, 7)
    assert "Items" not in count
    request = by_partition(table_hash_range, p, FilterExpression="attribute_exists(nothing)")
    filtered = dynamodb.query(**request)
    assert (filtered["Count"], filtered["ScannedCount"]) == (0, 7)
    assert filtered["LastEvaluatedKey"] == first["LastEvaluatedKey"]
    backwards = full_query(dynamodb, **by_partition(table_hash_range, p), ScanIndexForward=False)
    assert backwards == expected[::-1]


# --- Select and projections -------------------------------------------------------------------


def test_select_and_projection(dynamodb: Any, table_hash_range: str, numbers: str) -> None:
    count = dynamodb.query(**by_partition(table_hash_range, numbers), Select="COUNT")
    assert count["Count"] == len(NUMBERS) and "Items" not in count
    projected = dynamodb.query(**by_partition(table_hash_range, numbers),
                               ProjectionExpression="v")
    assert projected["Items"][0] == {"v": {"N": "0"}}
    specific = dynamodb.query(**by_partition(table_hash_range, numbers),
                              Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="#c, nothing_here",
                              ExpressionAttributeNames={"#c": "c"})
    assert specific["Items"][0] == {"c": {"N": "-100"}}
    legacy = dynamodb.query(TableName=table_hash_range, AttributesToGet=["v", "p"],
                            KeyConditions={"p": {"ComparisonOperator": "EQ",
                                                 "AttributeValueList": [{"S": numbers}]}})
    assert legacy["Items"][1] == {"v": {"N": "1"}, "p": {"S": numbers}}
    every = dynamodb.query(**by_partition(table_hash_range, numbers), Select="ALL_ATTRIBUTES")
    assert len(every["Items"][0]) == 3


PREFIX = "1 validation error detected: "


@pytest.mark.parametrize("extra, message", [
    ({"Select": "ALL_PROJECTED_ATTRIBUTES"},
     PREFIX + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
    ({"Select": "SPECIFIC_ATTRIBUTES"},
     PREFIX + "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
     "SPECIFIC_ATTRIBUTES"),
    ({"Select": "COUNT", "ProjectionExpression": "a"},
     PREFIX + "Cannot specify the ProjectionExpression when choosing to get only the Count"),
    ({"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "a"},
     PREFIX + "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
    ({"Select": "count"},
     PREFIX + "Value 'count' at 'select' failed to satisfy constraint: Member must satisfy "
     "enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"),
    ({"Limit": 0},
     PREFIX + "Value '0' at 'limit' failed to satisfy constraint: Member must have value "
     "greater than or equal to 1"),
    ({"IndexName": "idx"}, "The table does not have the specified index: idx"),
    ({"FilterExpression": "c > :p"},
     "Filter Expression can only contain non-primary key attributes: Primary key attribute: c"),
    ({"FilterExpression": "a >"}, None),
    ({"ExclusiveStartKey": {"p": {"S": "x"}}},
     "The provided starting key is invalid: The provided key element does not match the schema"),
    # Not a full key of the table (issue 12): extra attributes, a wrong key type.
    ({"ExclusiveStartKey": {"p": {"S": "x"}, "c": {"N": "1"}, "a": {"N": "1"}}},
     "The provided starting key is invalid: The provided key element does not match the schema"),
    ({"ExclusiveStartKey": {"p": {"S": "x"}, "c": {"S": "1"}}},
     "The provided starting key is invalid: The provided key element does not match the schema"),
    ({"ExclusiveStartKey": {"c": {"N": "1"}}},
     "The provided starting key is invalid: The provided key element does not match the schema"),
    ({"ExclusiveStartKey": {"p": {"S": "other"}, "c": {"N": "1"}}},
     "The provided starting key is outside query boundaries based on provided conditions"),
    ({"ReturnConsumedCapacity": "DUMMY"},
     PREFIX + "Value 'DUMMY' at 'returnConsumedCapacity' failed to satisfy constraint: Member "
     "must satisfy enum value set: [INDEXES, TOTAL, NONE]"),
])
def test_validation_errors(raw_dynamodb: Any, table_hash_range: str, extra: dict[str, Any],
                           message: str | None) -> None:
    # The partition is empty: validation happens before (and regardless of) any read.
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(**by_partition(table_hash_range, "p-" + new_key()), **extra)
    code, got = error_of(exc)
    assert code == "ValidationException"
    if message is not None:
        assert got == message
    else:
        assert got.startswith("Invalid FilterExpression: Syntax error;")


def test_key_condition_errors(raw_dynamodb: Any, table_hash_range: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash_range)
    assert error_of(exc) == ("ValidationException", "Either the KeyConditions or "
                             "KeyConditionExpression parameter must be specified in the request.")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash_range, KeyConditionExpression="c = :c",
                           ExpressionAttributeValues={":c": {"N": "1"}})
    assert error_of(exc) == ("ValidationException",
                             "Query condition missed key schema element: p")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash_range, KeyConditionExpression="p = :p",
                           ExpressionAttributeValues={":p": {"N": "1"}})
    assert error_of(exc)[1] == ("One or more parameter values were invalid: Condition "
                                "parameter type does not match schema type")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash_range, KeyConditionExpression="p = :p",
                           ExpressionAttributeValues={":p": {"S": ""}})
    assert "cannot contain an empty string value" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(**by_partition(table_hash_range, "x"),
                           ExpressionAttributeNames={"#unused": "a"})
    assert error_of(exc)[1] == ("Value provided in ExpressionAttributeNames unused in "
                                "expressions: keys: {#unused}")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(TableName=table_hash_range,
                           KeyConditionExpression="p = :p AND c > :c",
                           ExpressionAttributeValues={":p": {"S": "x"}, ":c": {"N": "5"}},
                           ExclusiveStartKey={"p": {"S": "x"}, "c": {"N": "1"}})
    assert error_of(exc)[1] == "The provided starting key does not match the range key predicate"


def test_missing_table(raw_dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.query(**by_partition("no_such_table_" + new_key()[:8], "x"))
    assert error_of(exc)[0] == "ResourceNotFoundException"


# --- consumed capacity ------------------------------------------------------------------------


def test_consumed_capacity(dynamodb: Any, table_hash_range: str) -> None:
    p = new_key()  # 32 characters
    # Item size: "p" + 32 + "c" + 2 (the number 1..3) + "a" + len(value).
    for c in (1, 2, 3):
        dynamodb.put_item(TableName=table_hash_range, Item={
            "p": {"S": p}, "c": {"N": str(c)}, "a": {"S": "x" * (2000 - 37)}})
    request = by_partition(table_hash_range, p)
    # 3 x 2000 bytes, summed then rounded up: 2 units strongly consistent, 1 eventually.
    response = dynamodb.query(**request, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"]["CapacityUnits"] == 2
    assert response["ConsumedCapacity"]["TableName"] == table_hash_range
    response = dynamodb.query(**request, ReturnConsumedCapacity="INDEXES")
    assert response["ConsumedCapacity"]["CapacityUnits"] == 1
    assert response["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1
    # Items dropped by a filter or a projection are paid for all the same.
    response = dynamodb.query(**request, ConsistentRead=True, ReturnConsumedCapacity="TOTAL",
                              FilterExpression="attribute_exists(nothing)")
    assert response["ConsumedCapacity"]["CapacityUnits"] == 2
    # Reading nothing still costs the minimum.
    response = dynamodb.query(**by_partition(table_hash_range, new_key()),
                              ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"]["CapacityUnits"] == 0.5
    assert "ConsumedCapacity" not in dynamodb.query(**request, ReturnConsumedCapacity="NONE")


def test_binary_partition_key_paging(dynamodb: Any, table_sb: str) -> None:
    """LastEvaluatedKey carries binary keys that can be sent back as they are."""
    p = new_key()
    for c in (b"\x01", b"\x02", b"\x03"):
        dynamodb.put_item(TableName=table_sb, Item={"p": {"S": p}, "c": {"B": c}})
    response = dynamodb.query(**by_partition(table_sb, p), Limit=1)
    assert response["LastEvaluatedKey"]["c"] == {"B": b"\x01"}
    rest = full_query(dynamodb, **by_partition(table_sb, p),
                      ExclusiveStartKey=response["LastEvaluatedKey"])
    assert sort_keys(rest, "B") == [b"\x02", b"\x03"]


# --- paging pushed down to storage (no server needed) -----------------------------------------


def test_read_pages_asks_storage_for_bounded_pages() -> None:
    """The page loop never asks storage for more than MAX_FETCH items, nor for much more than
    what is left of Limit and of the 1 MB page."""
    import asyncio

    from alternator.operations.query import MAX_FETCH, ReadPlan, read_pages
    from alternator.storage import Page

    def make(rows: int, size: int) -> list[dict[str, Any]]:
        return [{"p": {"S": "k"}, "c": {"N": str(i)}, "v": {"S": "x" * size}}
                for i in range(rows)]

    async def run(rows: list[dict[str, Any]], limit: int | None) -> tuple[list[int], Any]:
        asked: list[int] = []

        async def fetch(want: int, start: dict[str, Any] | None) -> Page:
            asked.append(want)
            first = 0 if start is None else int(start["c"]["N"]) + 1
            page = rows[first:first + want]
            last = {k: page[-1][k] for k in ("p", "c")} if len(page) == want else None
            return Page(page, last)

        plan = ReadPlan(None, None, False, limit, ("p", "c"))
        return asked, await read_pages(fetch, plan, None)

    # Small items: a few growing fetches, never more than MAX_FETCH, up to 1 MB.
    asked, result = asyncio.run(run(make(20000, 90), None))
    assert max(asked) <= MAX_FETCH
    assert result.size >= 1024 * 1024 and result.scanned < 20000
    assert sum(asked) - result.scanned <= MAX_FETCH
    # Big items: after the first fetch, only about as many as fit in the rest of the 1 MB.
    asked, result = asyncio.run(run(make(200, 300 * KB), None))
    assert result.scanned == 4 and result.last_key == {"p": {"S": "k"}, "c": {"N": "3"}}
    assert sum(asked) <= 32
    # Limit bounds every fetch.
    asked, result = asyncio.run(run(make(100, 10), 3))
    assert asked == [3] and result.scanned == 3 and result.last_key is not None
    # Storage exhausted before Limit: no LastEvaluatedKey.
    asked, result = asyncio.run(run(make(5, 10), 10))
    assert result.scanned == 5 and result.last_key is None
