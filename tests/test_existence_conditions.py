"""Writes conditional only on whether the item exists: the same answers and items on every
backend and policy, whether the write is one LWT that does not read (Cassandra under the LWT
policies, docs/write-path.md#conditional-writes-in-one-round-trip) or the general path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_metrics import delta, scrape

from conftest import Endpoint, create_table, error_of, new_key

POLICIES = ("always_use_lwt", "only_rmw_uses_lwt", "unsafe_rmw")
OLD = {"b": {"N": "1"}, "gone": {"S": "x"}}


@pytest.fixture(scope="module", params=POLICIES)
def policy_table(request: pytest.FixtureRequest, dynamodb: Any) -> Iterator[tuple[str, str]]:
    name = create_table(dynamodb, [("p", "HASH", "S"), ("s", "RANGE", "N")],
                        Tags=[{"Key": "system:write_isolation", "Value": request.param}])
    yield name, str(request.param)
    dynamodb.delete_table(TableName=name)


def _key() -> dict[str, Any]:
    return {"p": {"S": new_key()}, "s": {"N": "7"}}


def _item(dynamodb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(
        TableName=table, Key=key, ConsistentRead=True).get("Item")
    return item


# (request, present: the item exists first; the item after it, or "failed")
EXISTS = "attribute_exists(p)"
ABSENT = "attribute_not_exists(p) AND attribute_not_exists(#s)"
CASES: list[tuple[str, dict[str, Any], bool, Any]] = [
    ("put if exists, present", {"op": "put_item", "item": {"b": {"N": "2"}},
                                "ConditionExpression": EXISTS}, True, {"b": {"N": "2"}}),
    ("put if exists, absent", {"op": "put_item", "item": {"b": {"N": "2"}},
                               "ConditionExpression": EXISTS}, False, "failed"),
    ("put if absent, absent", {"op": "put_item", "item": {"b": {"N": "2"}},
                               "ConditionExpression": ABSENT}, False, {"b": {"N": "2"}}),
    ("put if absent, present", {"op": "put_item", "item": {"b": {"N": "2"}},
                                "ConditionExpression": ABSENT}, True, "failed"),
    ("update if exists, present", {
        "op": "update_item", "UpdateExpression": "SET b = :two, c = :two REMOVE gone",
        "ConditionExpression": EXISTS}, True, {"b": {"N": "2"}, "c": {"N": "2"}}),
    ("update if exists, absent", {
        "op": "update_item", "UpdateExpression": "SET b = :two",
        "ConditionExpression": EXISTS}, False, "failed"),
    ("remove if exists, present", {
        "op": "update_item", "UpdateExpression": "REMOVE gone, b",
        "ConditionExpression": EXISTS}, True, {}),
    ("update if absent, absent", {
        "op": "update_item", "UpdateExpression": "SET b = :two",
        "ConditionExpression": ABSENT}, False, {"b": {"N": "2"}}),
    ("update if absent, present", {
        "op": "update_item", "UpdateExpression": "SET b = :two",
        "ConditionExpression": ABSENT}, True, "failed"),
    ("empty update if exists, present", {"op": "update_item", "ConditionExpression": EXISTS},
     True, OLD),
    ("empty update if absent, absent", {"op": "update_item", "ConditionExpression": ABSENT},
     False, {}),
    ("delete if exists, present", {"op": "delete_item", "ConditionExpression": EXISTS},
     True, None),
    ("delete if exists, absent", {"op": "delete_item", "ConditionExpression": EXISTS},
     False, "failed"),
    ("delete if absent, absent", {"op": "delete_item", "ConditionExpression": ABSENT},
     False, None),
    # Expected's Exists takes a Value: an equality, so the general path.
    ("legacy Expected value, present", {
        "op": "put_item", "item": {"b": {"N": "3"}},
        "Expected": {"p": {"Exists": True, "Value": None}}}, True, {"b": {"N": "3"}}),
]


def _send(dynamodb: Any, table: str, key: dict[str, Any], request: dict[str, Any],
          **extra: Any) -> dict[str, Any]:
    call = {k: v for k, v in request.items() if k not in ("op", "item")}
    if "Expected" in call:
        call["Expected"] = {"p": {"Exists": True, "Value": key["p"]}}
    if "#s" in str(call.get("ConditionExpression")):
        call["ExpressionAttributeNames"] = {"#s": "s"}
    if ":two" in str(call.get("UpdateExpression")):
        call["ExpressionAttributeValues"] = {":two": {"N": "2"}}
    op = request["op"]
    if op == "put_item":
        call["Item"] = {**key, **request["item"]}
    else:
        call["Key"] = key
    response: dict[str, Any] = getattr(dynamodb, op)(TableName=table, **call, **extra)
    return response


@pytest.mark.parametrize(("request_", "present", "after"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_existence_conditions(dynamodb: Any, policy_table: tuple[str, str],
                              request_: dict[str, Any], present: bool, after: Any) -> None:
    table, _ = policy_table
    key = _key()
    if present:
        dynamodb.put_item(TableName=table, Item={**key, **OLD})
    if after == "failed":
        with pytest.raises(ClientError) as exc:
            _send(dynamodb, table, key, request_)
        assert error_of(exc) == ("ConditionalCheckFailedException",
                                 "The conditional request failed")
        assert _item(dynamodb, table, key) == ({**key, **OLD} if present else None)
    else:
        assert "Attributes" not in _send(dynamodb, table, key, request_)
        assert _item(dynamodb, table, key) == (None if after is None else {**key, **after})


@pytest.mark.parametrize("op", ["put_item", "update_item", "delete_item"])
def test_failed_condition_returns_the_old_item(dynamodb: Any, policy_table: tuple[str, str],
                                               op: str) -> None:
    table, _ = policy_table
    key = _key()
    dynamodb.put_item(TableName=table, Item={**key, **OLD})
    request: dict[str, Any] = {"op": op, "ConditionExpression": ABSENT}
    if op == "put_item":
        request["item"] = {"b": {"N": "5"}}
    with pytest.raises(ClientError) as exc:
        _send(dynamodb, table, key, request, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert exc.value.response["Item"] == {**key, **OLD}
    absent = _key()
    request = {"op": op, "ConditionExpression": EXISTS}
    if op == "put_item":
        request["item"] = {"b": {"N": "5"}}
    with pytest.raises(ClientError) as exc:
        _send(dynamodb, table, absent, request, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert "Item" not in exc.value.response


def test_updated_new_of_a_guarded_update(dynamodb: Any, policy_table: tuple[str, str]) -> None:
    table, _ = policy_table
    key = _key()
    dynamodb.put_item(TableName=table, Item={**key, **OLD})
    response = dynamodb.update_item(
        TableName=table, Key=key, UpdateExpression="SET b = :two", ConditionExpression=EXISTS,
        ExpressionAttributeValues={":two": {"N": "2"}}, ReturnValues="UPDATED_NEW")
    assert response["Attributes"] == {"b": {"N": "2"}}


def test_one_round_trip_where_the_backend_allows(endpoint: Endpoint, dynamodb: Any,
                                                 policy_table: tuple[str, str]) -> None:
    """On Cassandra under the LWT policies these writes do not read the item first."""
    table, policy = policy_table
    assert endpoint.metrics_url is not None
    key = _key()
    before = scrape(endpoint.metrics_url)
    dynamodb.put_item(TableName=table, Item={**key, **OLD}, ConditionExpression=ABSENT,
                      ExpressionAttributeNames={"#s": "s"})
    dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET b = :two",
                         ConditionExpression=EXISTS,
                         ExpressionAttributeValues={":two": {"N": "2"}})
    with pytest.raises(ClientError):
        dynamodb.put_item(TableName=table, Item=key, ConditionExpression=ABSENT,
                          ExpressionAttributeNames={"#s": "s"})
    dynamodb.delete_item(TableName=table, Key=key, ConditionExpression=EXISTS)
    # Not an existence condition (a non-key attribute): the general path.
    with pytest.raises(ClientError):
        dynamodb.delete_item(TableName=table, Key=key, ConditionExpression="attribute_exists(b)")
    after = scrape(endpoint.metrics_url)
    single = endpoint.backend == "cassandra" and policy != "unsafe_rmw"
    assert delta(before, after, "alternator_single_round_trip_writes") == (4 if single else 0)
    reads = delta(before, after, "scylla_alternator_reads_before_write")
    assert reads == (1 if single else 5)
