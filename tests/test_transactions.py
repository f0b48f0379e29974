"""TransactWriteItems and TransactGetItems, black-box on both backends (docs/transactions.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_indexes import index
from test_streams import read_all, settle, streams_client

from conftest import Endpoint, create_table, error_of, new_key


@pytest.fixture(scope="module")
def tables(dynamodb: Any) -> Iterator[tuple[str, str]]:
    first = create_table(dynamodb, [("p", "HASH", "S")])
    second = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")])
    yield first, second
    dynamodb.delete_table(TableName=first)
    dynamodb.delete_table(TableName=second)


def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(value: int) -> dict[str, str]:
    return {"N": str(value)}


def get(dynamodb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return dict(item) if item is not None else None


def cancelled(exc: pytest.ExceptionInfo[Any]) -> list[dict[str, Any]]:
    assert error_of(exc)[0] == "TransactionCanceledException"
    return list(exc.value.response["CancellationReasons"])


def test_every_action_kind_commits_together(dynamodb: Any, tables: tuple[str, str]) -> None:
    first, second = tables
    a, b, c, d = (new_key() for _ in range(4))
    dynamodb.put_item(TableName=first, Item={"p": S(b), "n": N(1)})
    dynamodb.put_item(TableName=first, Item={"p": S(c)})
    dynamodb.put_item(TableName=second, Item={"p": S(d), "c": N(1), "ok": {"BOOL": True}})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": first, "Item": {"p": S(a), "v": S("new")},
                 "ConditionExpression": "attribute_not_exists(p)"}},
        {"Update": {"TableName": first, "Key": {"p": S(b)}, "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": N(1)}}},
        {"Delete": {"TableName": first, "Key": {"p": S(c)}}},
        {"ConditionCheck": {"TableName": second, "Key": {"p": S(d), "c": N(1)},
                            "ConditionExpression": "ok = :t",
                            "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
    ])
    assert get(dynamodb, first, {"p": S(a)}) == {"p": S(a), "v": S("new")}
    assert get(dynamodb, first, {"p": S(b)}) == {"p": S(b), "n": N(2)}
    assert get(dynamodb, first, {"p": S(c)}) is None
    assert get(dynamodb, second, {"p": S(d), "c": N(1)}) == {
        "p": S(d), "c": N(1), "ok": {"BOOL": True}}


def test_a_failed_condition_cancels_everything(dynamodb: Any, tables: tuple[str, str]) -> None:
    first, _ = tables
    a, b = new_key(), new_key()
    dynamodb.put_item(TableName=first, Item={"p": S(b), "n": N(5)})
    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": first, "Item": {"p": S(a)}}},
            {"Update": {"TableName": first, "Key": {"p": S(b)}, "UpdateExpression": "SET n = :z",
                        "ConditionExpression": "n > :ten",
                        "ExpressionAttributeValues": {":z": N(0), ":ten": N(10)},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    reasons = cancelled(exc)
    assert reasons == [{"Code": "None"},
                       {"Code": "ConditionalCheckFailed",
                        "Message": "The conditional request failed",
                        "Item": {"p": S(b), "n": N(5)}}]
    assert error_of(exc)[1] == ("Transaction cancelled, please refer cancellation reasons for "
                                "specific reasons [None, ConditionalCheckFailed]")
    assert get(dynamodb, first, {"p": S(a)}) is None
    assert get(dynamodb, first, {"p": S(b)}) == {"p": S(b), "n": N(5)}


def test_condition_check_failure_without_the_item(dynamodb: Any,
                                                  tables: tuple[str, str]) -> None:
    first, _ = tables
    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": first, "Key": {"p": S(new_key())},
                                "ConditionExpression": "attribute_exists(p)"}}])
    assert cancelled(exc) == [{"Code": "ConditionalCheckFailed",
                               "Message": "The conditional request failed"}]


def test_an_update_that_cannot_apply_is_a_validation_error(dynamodb: Any,
                                                           tables: tuple[str, str]) -> None:
    first, _ = tables
    a = new_key()
    dynamodb.put_item(TableName=first, Item={"p": S(a), "s": S("text")})
    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": first, "Item": {"p": S(new_key())}}},
            {"Update": {"TableName": first, "Key": {"p": S(a)},
                        "UpdateExpression": "SET s = s + :one",
                        "ExpressionAttributeValues": {":one": N(1)}}}])
    reasons = cancelled(exc)
    assert [r["Code"] for r in reasons] == ["None", "ValidationError"]
    assert "operand" in reasons[1]["Message"]


@pytest.mark.parametrize("items, message", [
    ([], "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy "
         "constraint: Member must have length greater than or equal to 1"),
    ([{"ConditionCheck": {"TableName": "x", "Key": {"p": {"S": "a"}},
                          "ConditionExpression": "attribute_exists(p)"}}] * 101,
     "Member must have length less than or equal to 100"),
])
def test_action_count_limits(raw_dynamodb: Any, items: list[Any], message: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.transact_write_items(TransactItems=items)
    assert error_of(exc)[0] == "ValidationException"
    assert message in error_of(exc)[1]


def test_validation_errors(raw_dynamodb: Any, tables: tuple[str, str]) -> None:
    first, _ = tables
    key = {"p": S(new_key())}
    cases = [
        ([{"Put": {"TableName": first, "Item": key}},
          {"Delete": {"TableName": first, "Key": key}}],
         "ValidationException",
         "Transaction request cannot include multiple operations on one item"),
        ([{"Put": {"TableName": first, "Item": key}, "Delete": {"TableName": first, "Key": key}}],
         "ValidationException",
         "TransactItems can only contain one of Check, Put, Update or Delete"),
        ([{}], "ValidationException",
         "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"),
        ([{"ConditionCheck": {"TableName": first, "Key": key}}], "ValidationException", None),
        ([{"Update": {"TableName": first, "Key": key}}], "ValidationException", None),
        ([{"Put": {"TableName": "no_such_table_here", "Item": key}}],
         "ResourceNotFoundException", None),
        ([{"Put": {"TableName": first, "Item": {"q": S("x")}}}], "ValidationException", None),
    ]
    for items, code, message in cases:
        with pytest.raises(ClientError) as exc:
            raw_dynamodb.transact_write_items(TransactItems=items)
        assert error_of(exc)[0] == code, items
        if message is not None:
            assert error_of(exc)[1] == message
    assert get(raw_dynamodb, first, key) is None


def test_consumed_capacity_is_doubled(dynamodb: Any, tables: tuple[str, str]) -> None:
    first, second = tables
    out = dynamodb.transact_write_items(ReturnConsumedCapacity="TOTAL", TransactItems=[
        {"Put": {"TableName": first, "Item": {"p": S(new_key())}}},
        {"Put": {"TableName": first, "Item": {"p": S(new_key()), "big": S("x" * 1500)}}},
        {"Put": {"TableName": second, "Item": {"p": S(new_key()), "c": N(1)}}},
    ])
    used = {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]}
    assert used == {first: 2.0 + 4.0, second: 2.0}


def test_transact_get_items(dynamodb: Any, tables: tuple[str, str]) -> None:
    first, second = tables
    a = new_key()
    dynamodb.put_item(TableName=first, Item={"p": S(a), "x": N(1), "y": N(2)})
    out = dynamodb.transact_get_items(ReturnConsumedCapacity="TOTAL", TransactItems=[
        {"Get": {"TableName": first, "Key": {"p": S(a)}, "ProjectionExpression": "#y",
                 "ExpressionAttributeNames": {"#y": "y"}}},
        {"Get": {"TableName": second, "Key": {"p": S(a), "c": N(1)}}},
    ])
    assert out["Responses"] == [{"Item": {"y": N(2)}}, {}]
    used = {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]}
    assert used == {first: 2.0, second: 2.0}


def test_streams_follow_committed_transactions_only(endpoint: Endpoint, dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")], StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    try:
        arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"p": S("one")}}},
            {"Put": {"TableName": name, "Item": {"p": S("two")}}}])
        with pytest.raises(ClientError):
            dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": name, "Item": {"p": S("three")}}},
                {"Delete": {"TableName": name, "Key": {"p": S("one")},
                            "ConditionExpression": "attribute_not_exists(p)"}}])
        settle(endpoint)
        records = read_all(streams_client(endpoint), arn)
        assert sorted((r["eventName"], r["dynamodb"]["Keys"]["p"]["S"]) for r in records) == [
            ("INSERT", "one"), ("INSERT", "two")]
    finally:
        dynamodb.delete_table(TableName=name)


# A client process: transfers (kind "transfer") or audits (kind "audit") for ``seconds``, then
# prints one JSON line: transfers done, totals of full audits, anything unexpected.
_BANK_CLIENT = r"""
import json, random, sys, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
url, key, secret, table, kind, seed, seconds = sys.argv[1:8]
client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id=key, aws_secret_access_key=secret,
                      config=Config(retries={"max_attempts": 1}))
accounts = [f"acct{i}" for i in range(20)]
rng = random.Random(int(seed))
stop = time.monotonic() + float(seconds)
done, totals, errors = 0, [], []
while time.monotonic() < stop:
    try:
        if kind == "transfer":
            x, y = rng.sample(accounts, 2)
            amount = {"N": str(rng.randrange(1, 40))}
            client.transact_write_items(TransactItems=[
                {"Update": {"TableName": table, "Key": {"p": {"S": x}},
                            "UpdateExpression": "SET b = b - :a", "ConditionExpression": "b >= :a",
                            "ExpressionAttributeValues": {":a": amount}}},
                {"Update": {"TableName": table, "Key": {"p": {"S": y}},
                            "UpdateExpression": "SET b = b + :a",
                            "ExpressionAttributeValues": {":a": amount}}}])
            done += 1
        else:
            chosen = accounts if rng.random() < 0.5 else rng.sample(accounts, 5)
            out = client.transact_get_items(TransactItems=[
                {"Get": {"TableName": table, "Key": {"p": {"S": a}}}} for a in chosen])
            balances = [int(r["Item"]["b"]["N"]) for r in out["Responses"]]
            if min(balances) < 0:
                errors.append(f"negative balance {balances}")
            if len(chosen) == len(accounts):
                totals.append(sum(balances))
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            errors.append(error.response["Error"]["Code"])
print(json.dumps({"done": done, "totals": totals, "errors": errors[:5]}))
"""


def test_bank_transfers_keep_the_total(endpoint: Endpoint, dynamodb: Any) -> None:
    """Client processes move money between 20 accounts in transactions (never below zero)
    while others read random sets of accounts in TransactGetItems: no read of all the accounts
    sees another total, and at the end the total is the one at the start."""
    name = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        for i in range(20):
            dynamodb.put_item(TableName=name, Item={"p": S(f"acct{i}"), "b": N(100)})
        clients = [subprocess.Popen(
            [sys.executable, "-c", _BANK_CLIENT, endpoint.url, endpoint.access_key,
             endpoint.secret_key, name, kind, str(seed), "8"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for seed, kind in enumerate(["transfer"] * 3 + ["audit"] * 2)]
        results = []
        for client in clients:
            out, err = client.communicate(timeout=120)
            assert client.returncode == 0, err.decode()
            results.append(json.loads(out))
        assert [r["errors"] for r in results] == [[]] * len(results)
        assert sum(r["done"] for r in results) > 10
        totals = [t for r in results for t in r["totals"]]
        assert totals and set(totals) == {2000}
        final = sum(int(i["b"]["N"]) for i in dynamodb.scan(TableName=name,
                                                            ConsistentRead=True)["Items"])
        assert final == 2000
    finally:
        dynamodb.delete_table(TableName=name)


def test_client_request_token_makes_a_retry_idempotent(dynamodb: Any,
                                                       tables: tuple[str, str]) -> None:
    first, _ = tables
    a = new_key()
    dynamodb.put_item(TableName=first, Item={"p": S(a), "n": N(0)})
    token = new_key()
    request = {"ClientRequestToken": token, "TransactItems": [
        {"Update": {"TableName": first, "Key": {"p": S(a)}, "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": N(1)}}}]}
    dynamodb.transact_write_items(**request)
    dynamodb.transact_write_items(**request)  # the same request again: applied once
    assert get(dynamodb, first, {"p": S(a)}) == {"p": S(a), "n": N(1)}
    changed = {**request, "TransactItems": [
        {"Update": {"TableName": first, "Key": {"p": S(a)}, "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": N(5)}}}]}
    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(**changed)
    assert error_of(exc)[0] == "IdempotentParameterMismatchException"
    assert get(dynamodb, first, {"p": S(a)}) == {"p": S(a), "n": N(1)}
    # A cancelled transaction keeps nothing under its token: the retry runs again.
    retry = {"ClientRequestToken": new_key(), "TransactItems": [
        {"Put": {"TableName": first, "Item": {"p": S(a), "n": N(9)},
                 "ConditionExpression": "n = :two", "ExpressionAttributeValues": {
                     ":two": N(2)}}}]}
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(**retry)
    dynamodb.update_item(TableName=first, Key={"p": S(a)}, UpdateExpression="SET n = :two",
                         ExpressionAttributeValues={":two": N(2)})
    dynamodb.transact_write_items(**retry)
    assert get(dynamodb, first, {"p": S(a)}) == {"p": S(a), "n": N(9)}


def test_a_token_in_flight_is_in_progress(endpoint: Endpoint, dynamodb: Any,
                                          tables: tuple[str, str]) -> None:
    """Two identical requests with one token at the same time: one applies, the other is
    TransactionInProgressException or (if it came after) the first's outcome."""
    first, _ = tables
    a = new_key()
    dynamodb.put_item(TableName=first, Item={"p": S(a), "n": N(0)})
    token = new_key()
    request = {"ClientRequestToken": token, "TransactItems": [
        {"Update": {"TableName": first, "Key": {"p": S(a)}, "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": N(1)}}}
        ] + [{"Put": {"TableName": first, "Item": {"p": S(new_key())}}} for _ in range(20)]}
    outcomes: list[str] = []

    def send() -> None:
        try:
            endpoint.client().transact_write_items(**request)
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(outcomes) <= {"ok", "TransactionInProgressException"} and "ok" in outcomes
    assert get(dynamodb, first, {"p": S(a)}) == {"p": S(a), "n": N(1)}


def test_indexes_follow_committed_transactions_only(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")], attributes=(("g", "S"),),
                        GlobalSecondaryIndexes=[index("by_g", ["g"])])
    try:
        dynamodb.put_item(TableName=name, Item={"p": S("moves"), "g": S("old")})
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"p": S("added"), "g": S("new")}}},
            {"Update": {"TableName": name, "Key": {"p": S("moves")},
                        "UpdateExpression": "SET g = :g",
                        "ExpressionAttributeValues": {":g": S("new")}}}])
        with pytest.raises(ClientError):
            dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": name, "Item": {"p": S("never"), "g": S("new")}}},
                {"ConditionCheck": {"TableName": name, "Key": {"p": S("moves")},
                                    "ConditionExpression": "g = :old",
                                    "ExpressionAttributeValues": {":old": S("old")}}}])

        def in_group(group: str) -> list[str]:
            items = dynamodb.query(TableName=name, IndexName="by_g",
                                   KeyConditionExpression="g = :g",
                                   ExpressionAttributeValues={":g": S(group)})["Items"]
            return sorted(i["p"]["S"] for i in items)

        assert in_group("new") == ["added", "moves"]
        assert in_group("old") == []
    finally:
        dynamodb.delete_table(TableName=name)


def test_puts_of_more_than_4_mb_are_refused(dynamodb: Any, tables: tuple[str, str]) -> None:
    first, _ = tables
    big = "x" * 390_000
    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": first, "Item": {"p": S(new_key()), "v": S(big)}}}
            for _ in range(11)])
    assert error_of(exc)[0] == "ValidationException"
    assert "4 MB" in error_of(exc)[1]
