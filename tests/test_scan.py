"""Scan through boto3, on every backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of, new_key

KB = 1024



def full_scan(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = client.scan(**kwargs)
        items += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def identity(item: dict[str, Any]) -> tuple[str, str]:
    return item["p"]["S"], item["c"]["N"]


@pytest.fixture(scope="module")
def filled(dynamodb: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A table (p S, c N) of 40 partitions holding 1 to 4 items each, and its items."""
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")])
    items = []
    for i in range(40):
        p = f"{i}-{new_key()[:6]}"
        for c in range(i % 4 + 1):
            items.append({"p": {"S": p}, "c": {"N": str(c - 1)}, "v": {"N": str(i)}})
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={
            name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]})
    yield name, items
    dynamodb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def hash_only(dynamodb: Any) -> Iterator[str]:
    """An initially empty table with only a partition key p (S)."""
    name = create_table(dynamodb, [("p", "HASH", "S")])
    yield name
    dynamodb.delete_table(TableName=name)


def test_scan_returns_every_item(dynamodb: Any,
                                 filled: tuple[str, list[dict[str, Any]]]) -> None:
    name, items = filled
    got = full_scan(dynamodb, TableName=name)
    assert Counter(map(identity, got)) == Counter(map(identity, items))
    assert sorted(got, key=identity) == sorted(items, key=identity)
    # Inside a partition, items come in sort-key order.
    by_partition: dict[str, list[int]] = {}
    for item in got:
        by_partition.setdefault(item["p"]["S"], []).append(int(item["c"]["N"]))
    assert all(cs == sorted(cs) for cs in by_partition.values())


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_scan_limit_pages(dynamodb: Any, filled: tuple[str, list[dict[str, Any]]],
                          limit: int) -> None:
    name, items = filled
    request: dict[str, Any] = {"TableName": name, "Limit": limit}
    got: list[dict[str, Any]] = []
    while True:
        response = dynamodb.scan(**request)
        assert len(response["Items"]) <= limit
        assert response["Count"] == response["ScannedCount"] == len(response["Items"])
        got += response["Items"]
        if "LastEvaluatedKey" not in response:
            break
        assert len(response["Items"]) == limit
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    assert Counter(map(identity, got)) == Counter(map(identity, items))


@pytest.mark.parametrize("total", [1, 3, 16])
def test_parallel_scan(dynamodb: Any, filled: tuple[str, list[dict[str, Any]]],
                       total: int) -> None:
    name, items = filled
    got: list[dict[str, Any]] = []
    for segment in range(total):
        got += full_scan(dynamodb, TableName=name, Segment=segment, TotalSegments=total,
                         Limit=3)
    assert Counter(map(identity, got)) == Counter(map(identity, items))


def test_parallel_scan_segments_are_disjoint(dynamodb: Any,
                                             filled: tuple[str, list[dict[str, Any]]]) -> None:
    name, items = filled
    seen: dict[tuple[str, str], int] = {}
    for segment in range(4):
        for item in full_scan(dynamodb, TableName=name, Segment=segment, TotalSegments=4):
            assert identity(item) not in seen
            seen[identity(item)] = segment
    assert len(seen) == len(items)
    # A partition never spans two segments.
    partitions = {p: s for (p, _), s in seen.items()}
    assert all(partitions[p] == s for (p, _), s in seen.items())


def test_filters_may_use_key_attributes(dynamodb: Any,
                                        filled: tuple[str, list[dict[str, Any]]]) -> None:
    name, items = filled
    got = full_scan(dynamodb, TableName=name, FilterExpression="c = :c AND v < :v",
                    ExpressionAttributeValues={":c": {"N": "2"}, ":v": {"N": "20"}})
    assert sorted(map(identity, got)) == sorted(
        identity(i) for i in items if i["c"]["N"] == "2" and int(i["v"]["N"]) < 20)
    legacy = full_scan(dynamodb, TableName=name, ScanFilter={
        "c": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "2"}]},
        "v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "20"}]}})
    assert sorted(map(identity, legacy)) == sorted(map(identity, got))
    either = full_scan(dynamodb, TableName=name, ConditionalOperator="OR", ScanFilter={
        "c": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "2"}]},
        "v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "2"}]}})
    assert sorted(map(identity, either)) == sorted(
        identity(i) for i in items if i["c"]["N"] == "2" or int(i["v"]["N"]) < 2)


def test_filter_with_limit_counts(dynamodb: Any,
                                  filled: tuple[str, list[dict[str, Any]]]) -> None:
    name, _ = filled
    response = dynamodb.scan(TableName=name, Limit=10, FilterExpression="c = :c",
                             ExpressionAttributeValues={":c": {"N": "-1"}})
    assert response["ScannedCount"] == 10
    assert response["Count"] == len(response["Items"]) <= 10
    assert all(i["c"]["N"] == "-1" for i in response["Items"])
    assert "LastEvaluatedKey" in response


def test_select_count_and_projection(dynamodb: Any,
                                     filled: tuple[str, list[dict[str, Any]]]) -> None:
    name, items = filled
    response = dynamodb.scan(TableName=name, Select="COUNT")
    assert response["Count"] == response["ScannedCount"] == len(items)
    assert "Items" not in response
    projected = full_scan(dynamodb, TableName=name, ProjectionExpression="v")
    assert Counter(i["v"]["N"] for i in projected) == Counter(i["v"]["N"] for i in items)
    assert all(list(i) == ["v"] for i in projected)
    legacy = full_scan(dynamodb, TableName=name, AttributesToGet=["c"],
                       Select="SPECIFIC_ATTRIBUTES")
    assert all(list(i) == ["c"] for i in legacy) and len(legacy) == len(items)


@pytest.mark.parametrize("extra, message", [
    ({"Segment": 5, "TotalSegments": 5},
     "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
     "Segment: 5 is not less than TotalSegments: 5"),
    ({"Segment": 7, "TotalSegments": 5},
     "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
     "Segment: 7 is not less than TotalSegments: 5"),
    ({"TotalSegments": 4},
     "The Segment parameter is required but was not present in the request when parameter "
     "TotalSegments is present"),
    ({"Segment": 1},
     "The TotalSegments parameter is required but was not present in the request when "
     "Segment parameter is present"),
    ({"Segment": 0, "TotalSegments": 1000001},
     "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
     "constraint: Member must have value less than or equal to 1000000"),
    ({"Segment": 0, "TotalSegments": 0},
     "1 validation error detected: Value '0' at 'totalSegments' failed to satisfy "
     "constraint: Member must have value greater than or equal to 1"),
    ({"Segment": -1, "TotalSegments": 2},
     "1 validation error detected: Value '-1' at 'segment' failed to satisfy constraint: "
     "Member must have value greater than or equal to 0"),
    ({"Limit": -3},
     "1 validation error detected: Value '-3' at 'limit' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"),
    ({"Select": "ALL_PROJECTED_ATTRIBUTES"},
     "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
    ({"Select": "SPECIFIC_ATTRIBUTES"},
     "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
     "SPECIFIC_ATTRIBUTES"),
    ({"Select": "COUNT", "AttributesToGet": ["a"]},
     "Cannot specify the AttributesToGet when choosing to get only the Count"),
    ({"Select": "ALL_ATTRIBUTES", "AttributesToGet": ["a"]},
     "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"),
    ({"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "a"},
     "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
    ({"IndexName": "nope"}, "The table does not have the specified index: nope"),
    ({"ExclusiveStartKey": {"p": {"N": "1"}}},
     "The provided starting key is invalid: The provided key element does not match the schema"),
    ({"FilterExpression": "a = :a"},
     "Invalid FilterExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :a"),
    ({"FilterExpression": "a = :a", "ScanFilter": {"a": {"ComparisonOperator": "NULL"}}},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}"),
])
def test_validation_errors(raw_dynamodb: Any, hash_only: str, extra: dict[str, Any],
                           message: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.scan(TableName=hash_only, **extra)
    assert error_of(exc) == ("ValidationException", message)


def test_missing_table(raw_dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.scan(TableName="no_such_table_" + new_key()[:8])
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_hash_only_paging_and_one_megabyte(dynamodb: Any, hash_only: str) -> None:
    """Pages stop after 1 MB of items read; paging by partition key alone visits each once."""
    big = "y" * (300 * KB)
    items = [{"p": {"S": f"big-{i}"}, "big": {"S": big}} for i in range(5)]
    items += [{"p": {"S": f"small-{i}"}} for i in range(20)]
    for item in items:
        dynamodb.put_item(TableName=hash_only, Item=item)
    pages = []
    request: dict[str, Any] = {"TableName": hash_only, "ReturnConsumedCapacity": "TOTAL"}
    while True:
        response = dynamodb.scan(**request)
        pages.append(response)
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    got = [i for page in pages for i in page["Items"]]
    assert sorted(i["p"]["S"] for i in got) == sorted(i["p"]["S"] for i in items)
    # 1.5 MB of items cannot come back in one page, and no page holds more than four big ones.
    assert len(pages) >= 2
    for page in pages:
        bigs = sum(1 for i in page["Items"] if "big" in i)
        assert bigs <= 4
        if "LastEvaluatedKey" in page:
            assert bigs >= 3 and page["Items"][-1].get("big") is not None
        # Eventually consistent: half a unit per 4 KB of all items read on the page.
        size = sum(len(k) + len(v.get("S", "")) for i in page["Items"] for k, v in i.items())
        assert page["ConsumedCapacity"]["CapacityUnits"] == -(-size // (4 * KB)) / 2
    for limit in (1, 4):
        got = []
        request = {"TableName": hash_only, "Limit": limit, "ProjectionExpression": "p"}
        while True:
            response = dynamodb.scan(**request)
            got += response["Items"]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        assert sorted(i["p"]["S"] for i in got) == sorted(i["p"]["S"] for i in items)


def test_parallel_scan_start_key_must_belong_to_the_segment(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        for i in range(30):
            dynamodb.put_item(TableName=name, Item={"p": {"S": f"k{i}"}})
        page = dynamodb.scan(TableName=name, Segment=0, TotalSegments=3, Limit=1)
        start = page["LastEvaluatedKey"]
        following = dynamodb.scan(TableName=name, Segment=0, TotalSegments=3,
                                  ExclusiveStartKey=start)
        assert start not in following["Items"]
        with pytest.raises(ClientError) as exc:
            dynamodb.scan(TableName=name, Segment=1, TotalSegments=3, ExclusiveStartKey=start)
        assert exc.value.response["Error"]["Code"] == "ValidationException"
        assert "does not map to the provided Segment" in exc.value.response["Error"]["Message"]
    finally:
        dynamodb.delete_table(TableName=name)
