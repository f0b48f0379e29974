"""BatchGetItem and BatchWriteItem through boto3, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of, new_key

KB = 1024



@pytest.fixture(scope="module")
def table(dynamodb: Any) -> Iterator[str]:
    """A table of this module's own, (p S, c N), which tests may tag."""
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")])
    yield name
    dynamodb.delete_table(TableName=name)


def put(item: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": item}}


def delete(key: dict[str, Any]) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": key}}


def key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("p", "c") if k in item}


def ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (i["p"]["S"], float(i.get("c", {"N": "0"})["N"])))


def test_write_then_get_across_tables(dynamodb: Any, table: str, table_hash: str) -> None:
    p = new_key()
    items = [{"p": {"S": p}, "c": {"N": str(c)}, "a": {"S": f"v{c}"}} for c in range(10)]
    singles = [{"p": {"S": f"{p}-{i}"}, "b": {"N": str(i)}} for i in range(5)]
    response = dynamodb.batch_write_item(RequestItems={
        table: [put(i) for i in items], table_hash: [put(i) for i in singles]})
    assert response["UnprocessedItems"] == {}
    missing = {"p": {"S": new_key()}}
    got = dynamodb.batch_get_item(RequestItems={
        table: {"Keys": [key_of(i) for i in items], "ConsistentRead": True},
        table_hash: {"Keys": [key_of(i) for i in singles] + [missing]},
    })
    assert got["UnprocessedKeys"] == {}
    assert ordered(got["Responses"][table]) == items
    assert ordered(got["Responses"][table_hash]) == singles


def test_get_missing_items_gives_empty_list(dynamodb: Any, table: str) -> None:
    got = dynamodb.batch_get_item(RequestItems={
        table: {"Keys": [{"p": {"S": new_key()}, "c": {"N": "1"}}]}})
    assert got["Responses"] == {table: []}
    assert got["UnprocessedKeys"] == {}


def test_get_projection(dynamodb: Any, table: str) -> None:
    p = new_key()
    items = [{"p": {"S": p}, "c": {"N": str(c)}, "a": {"S": "x"}, "b": {"N": "2"}}
             for c in range(3)]
    dynamodb.batch_write_item(RequestItems={table: [put(i) for i in items]})
    keys = [key_of(i) for i in items]
    got = dynamodb.batch_get_item(RequestItems={
        table: {"Keys": keys, "ProjectionExpression": "#b, c", "ExpressionAttributeNames":
                {"#b": "b"}}})
    assert sorted(got["Responses"][table], key=lambda i: i["c"]["N"]) == [
        {"b": {"N": "2"}, "c": {"N": str(c)}} for c in range(3)]
    got = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys, "AttributesToGet": ["a"]}})
    assert got["Responses"][table] == [{"a": {"S": "x"}}] * 3
    with pytest.raises(ClientError) as exc:
        dynamodb.batch_get_item(RequestItems={table: {
            "Keys": keys, "ProjectionExpression": "a",
            "ExpressionAttributeNames": {"#unused": "x"}}})
    assert error_of(exc) == ("ValidationException", "Value provided in ExpressionAttributeNames "
                             "unused in expressions: keys: {#unused}")


def test_put_replaces_and_delete_removes(dynamodb: Any, table: str) -> None:
    p = new_key()
    first = {"p": {"S": p}, "c": {"N": "1"}, "a": {"S": "old"}}
    second = {"p": {"S": p}, "c": {"N": "2"}}
    dynamodb.batch_write_item(RequestItems={table: [put(first), put(second)]})
    replaced = {"p": {"S": p}, "c": {"N": "1"}, "b": {"S": "new"}}
    dynamodb.batch_write_item(RequestItems={table: [put(replaced), delete(key_of(second)),
                                                    delete({"p": {"S": p}, "c": {"N": "3"}})]})
    got = dynamodb.batch_get_item(RequestItems={table: {
        "Keys": [key_of(first), key_of(second)], "ConsistentRead": True}})
    assert got["Responses"][table] == [replaced]


@pytest.mark.parametrize("requests", [
    [put({"p": {"S": "dup"}, "c": {"N": "1"}}), put({"p": {"S": "dup"}, "c": {"N": "1"}})],
    [put({"p": {"S": "dup"}, "c": {"N": "1"}}), delete({"p": {"S": "dup"}, "c": {"N": "1.0"}})],
    [delete({"p": {"S": "dup"}, "c": {"N": "10"}}), delete({"p": {"S": "dup"}, "c": {"N": "1e1"}})],
])
def test_write_duplicates(dynamodb: Any, table: str, requests: list[dict[str, Any]]) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.batch_write_item(RequestItems={table: requests})
    assert error_of(exc) == ("ValidationException",
                             "Provided list of item keys contains duplicates")


def test_same_key_in_two_tables_is_not_a_duplicate(dynamodb: Any, table: str,
                                                   table_hash_range: str) -> None:
    item = {"p": {"S": new_key()}, "c": {"N": "1"}}
    dynamodb.batch_write_item(RequestItems={table: [put(item)], table_hash_range: [put(item)]})
    got = dynamodb.batch_get_item(RequestItems={table: {"Keys": [item]},
                                                table_hash_range: {"Keys": [item]}})
    assert got["Responses"] == {table: [item], table_hash_range: [item]}


def test_get_duplicates(dynamodb: Any, table: str) -> None:
    p = new_key()
    with pytest.raises(ClientError) as exc:
        dynamodb.batch_get_item(RequestItems={table: {"Keys": [
            {"p": {"S": p}, "c": {"N": "1"}}, {"p": {"S": p}, "c": {"N": "1.00"}}]}})
    assert error_of(exc) == ("ValidationException",
                             "Provided list of item keys contains duplicates")
    # The same partition with another sort key is fine.
    dynamodb.batch_get_item(RequestItems={table: {"Keys": [
        {"p": {"S": p}, "c": {"N": "1"}}, {"p": {"S": p}, "c": {"N": "2"}}]}})


def test_write_limits(raw_dynamodb: Any, table: str, table_hash: str) -> None:
    p = new_key()
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_write_item(RequestItems={
            table: [put({"p": {"S": p}, "c": {"N": str(c)}}) for c in range(26)]})
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '{")
    assert message.endswith("at 'requestItems' failed to satisfy constraint: Map value must "
                            "satisfy constraint: [Member must have length less than or equal "
                            "to 25, Member must have length greater than or equal to 1]")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_write_item(RequestItems={
            table: [put({"p": {"S": p}, "c": {"N": str(c)}}) for c in range(20)],
            table_hash: [put({"p": {"S": f"{p}{c}"}}) for c in range(6)]})
    assert error_of(exc) == ("ValidationException",
                             "Too many items requested for the BatchWriteItem call")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_write_item(RequestItems={table: []})
    assert "Member must have length greater than or equal to 1" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_write_item(RequestItems={})
    assert error_of(exc) == ("ValidationException", "1 validation error detected: Value '{}' at "
                             "'requestItems' failed to satisfy constraint: Member must have "
                             "length greater than or equal to 1")
    # Nothing of a rejected batch was written.
    got = raw_dynamodb.batch_get_item(RequestItems={table: {"Keys": [
        {"p": {"S": p}, "c": {"N": "0"}}]}})
    assert got["Responses"][table] == []
    # 25 is fine.
    raw_dynamodb.batch_write_item(RequestItems={
        table: [put({"p": {"S": p}, "c": {"N": str(c)}}) for c in range(25)]})


def test_get_limits(raw_dynamodb: Any, table: str, table_hash: str) -> None:
    p = new_key()
    keys = [{"p": {"S": p}, "c": {"N": str(c)}} for c in range(100)]
    got = raw_dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}})
    assert got["Responses"][table] == []
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_get_item(RequestItems={table: {"Keys": keys},
                                                  table_hash: {"Keys": [{"p": {"S": p}}]}})
    assert error_of(exc) == ("ValidationException",
                             "Too many items requested for the BatchGetItem call")


def test_invalid_request_writes_nothing(raw_dynamodb: Any, table: str) -> None:
    p = new_key()
    good = [put({"p": {"S": p}, "c": {"N": str(c)}}) for c in range(3)]
    bad_batches: list[tuple[list[dict[str, Any]], str]] = [
        ([put({"p": {"S": p}, "c": {"S": "wrong"}})],
         "One or more parameter values were invalid: Type mismatch for key c expected: N "
         "actual: S"),
        ([put({"p": {"S": p}})],
         "One or more parameter values were invalid: Missing the key c in the item"),
        ([delete({"p": {"S": p}})], "The provided key element does not match the schema"),
        ([put({"p": {"S": p}, "c": {"N": "9"}, "x": {"S": "x" * (400 * KB)}})],
         "Item size has exceeded the maximum allowed size"),
        ([{}], "Supplied AttributeValue has more than one datatypes set, must contain exactly "
         "one of the supported datatypes"),
        ([{"PutRequest": {}}], None),
    ]
    for bad, message in bad_batches:
        with pytest.raises(ClientError) as exc:
            raw_dynamodb.batch_write_item(RequestItems={table: good + bad})
        code, got = error_of(exc)
        assert code == "ValidationException"
        if message is not None:
            assert got == message
    got_items = raw_dynamodb.batch_get_item(RequestItems={table: {
        "Keys": [r["PutRequest"]["Item"] for r in good], "ConsistentRead": True}})
    assert got_items["Responses"][table] == []


def test_missing_table(raw_dynamodb: Any, table: str) -> None:
    missing = "no_such_table_" + new_key()[:8]
    item = {"p": {"S": new_key()}, "c": {"N": "1"}}
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_write_item(RequestItems={table: [put(item)], missing: [put(item)]})
    assert error_of(exc) == ("ResourceNotFoundException", "Requested resource not found")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.batch_get_item(RequestItems={missing: {"Keys": [item]}})
    assert error_of(exc) == ("ResourceNotFoundException", "Requested resource not found")
    got = raw_dynamodb.batch_get_item(RequestItems={table: {"Keys": [item]}})
    assert got["Responses"][table] == []


def test_consumed_capacity(dynamodb: Any, table: str, table_hash: str) -> None:
    p = new_key()  # 32 characters; a key (p, c) of a one-digit c is 1 + 32 + 1 + 2 = 36 bytes
    small = {"p": {"S": p}, "c": {"N": "1"}}
    large = {"p": {"S": p}, "c": {"N": "2"}, "a": {"S": "x" * (KB - 37)}}      # exactly 1 KB
    larger = {"p": {"S": p}, "c": {"N": "3"}, "a": {"S": "x" * (KB - 36)}}     # 1 KB + 1
    response = dynamodb.batch_write_item(RequestItems={
        table: [put(small), put(large), put(larger), delete({"p": {"S": p}, "c": {"N": "4"}})],
        table_hash: [put({"p": {"S": p}})],
    }, ReturnConsumedCapacity="TOTAL")
    units = {c["TableName"]: c["CapacityUnits"] for c in response["ConsumedCapacity"]}
    assert units == {table: 1 + 1 + 2 + 1, table_hash: 1}
    huge = {"p": {"S": p}, "c": {"N": "5"}, "a": {"S": "x" * (4 * KB)}}          # 4 KB + 37
    dynamodb.put_item(TableName=table, Item=huge)
    keys = [key_of(i) for i in (small, larger, huge)] + [{"p": {"S": p}, "c": {"N": "6"}}]
    response = dynamodb.batch_get_item(RequestItems={
        table: {"Keys": keys, "ConsistentRead": True}}, ReturnConsumedCapacity="TOTAL")
    # Each item rounded up on its own: 1 + 1 + 2, and 1 for the missing one.
    assert response["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 5, "ReadCapacityUnits": 5}]
    response = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}},
                                       ReturnConsumedCapacity="INDEXES")
    assert response["ConsumedCapacity"][0]["CapacityUnits"] == 2.5
    assert response["ConsumedCapacity"][0]["Table"]["CapacityUnits"] == 2.5
    response = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}})
    assert "ConsumedCapacity" not in response


def test_blind_writes_pass_forbid_rmw(dynamodb: Any, table: str) -> None:
    """Batch writes never read: forbid_rmw lets them through, always_use_lwt takes LWT."""
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    p = new_key()
    try:
        for policy in ("forbid_rmw", "always_use_lwt", "unsafe_rmw"):
            dynamodb.tag_resource(ResourceArn=arn, Tags=[
                {"Key": "system:write_isolation", "Value": policy}])
            item = {"p": {"S": p}, "c": {"N": "1"}, "policy": {"S": policy}}
            dynamodb.batch_write_item(RequestItems={table: [
                put(item), delete({"p": {"S": p}, "c": {"N": "2"}})]})
            got = dynamodb.get_item(TableName=table, Key=key_of(item), ConsistentRead=True)
            assert got["Item"] == item
    finally:
        dynamodb.untag_resource(ResourceArn=arn, TagKeys=["system:write_isolation"])


def test_get_response_limit_returns_unprocessed_keys(dynamodb: Any, table: str) -> None:
    """Past 16 MB of response the remaining keys come back in UnprocessedKeys, with the
    table's other parameters, and a retry loop reads them all."""
    p = new_key()
    blob = "z" * (390 * KB)
    count = 45  # 45 x 390 KB is about 17 MB
    for start in range(0, count, 5):
        dynamodb.batch_write_item(RequestItems={table: [
            put({"p": {"S": p}, "c": {"N": str(c)}, "zz": {"S": blob}})
            for c in range(start, start + 5)]})
    request = {table: {"Keys": [{"p": {"S": p}, "c": {"N": str(c)}} for c in range(count)],
                       "ConsistentRead": True, "ProjectionExpression": "c, zz"}}
    response = dynamodb.batch_get_item(RequestItems=request)
    first = response["Responses"][table]
    unprocessed = response["UnprocessedKeys"]
    assert 0 < len(first) < count
    assert unprocessed[table]["ConsistentRead"] is True
    assert unprocessed[table]["ProjectionExpression"] == "c, zz"
    assert len(unprocessed[table]["Keys"]) == count - len(first)
    rest = dynamodb.batch_get_item(RequestItems=unprocessed)
    assert rest["UnprocessedKeys"] == {}
    got = sorted(int(i["c"]["N"]) for i in first + rest["Responses"][table])
    assert got == list(range(count))
