"""A server killed (SIGKILL) in the middle of a transaction's commit, on Cassandra: another
server process rolls it forward or back, all or nothing (docs/transactions.md)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import (
    Endpoint,
    cassandra_address,
    cassandra_salted_hash,
    cassandra_serve_args,
    create_table,
    error_of,
)
from test_processes import start_process, stop_process


def _transfer(client: Any, table: str) -> None:
    client.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": {"p": {"S": "a"}},
                    "UpdateExpression": "SET b = b - :x", "ExpressionAttributeValues": {
                        ":x": {"N": "10"}}}},
        {"Update": {"TableName": table, "Key": {"p": {"S": "b"}},
                    "UpdateExpression": "SET b = b + :x", "ExpressionAttributeValues": {
                        ":x": {"N": "10"}}}},
        {"Put": {"TableName": table, "Item": {"p": {"S": "new"}, "b": {"N": "0"}}}},
    ])


def _balances(client: Any, table: str) -> dict[str, int]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["p"]["S"]: int(i["b"]["N"]) for i in items}


@pytest.mark.parametrize("step", ["locked", "committed"])
def test_a_transaction_of_a_killed_server_is_finished_by_another(
        step: str, dynamodb: Any, endpoint: Endpoint, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if endpoint.backend != "cassandra" or cassandra_address() is None:
        pytest.skip("a protocol of the Cassandra backend (SQLite: one database transaction)")
    table = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        for key in ("a", "b"):
            dynamodb.put_item(TableName=table, Item={"p": {"S": key}, "b": {"N": "100"}})
        monkeypatch.setenv("ALTERNATOR_TEST_CRASH_IN_TRANSACTION", step)
        proc, victim = start_process(cassandra_serve_args(), tmp_path / "victim.log",
                                     ("cassandra", cassandra_salted_hash()))
        monkeypatch.delenv("ALTERNATOR_TEST_CRASH_IN_TRANSACTION")
        try:
            with pytest.raises(Exception):  # noqa: B017 - the connection dies with the server
                _transfer(victim.client(), table)
            proc.wait(30)
        finally:
            stop_process(proc)
        started = time.monotonic()
        if step == "locked":
            # The transaction is PENDING and young: a read-modify-write of one of its items
            # conflicts, as DynamoDB's do.
            with pytest.raises(ClientError) as exc:
                dynamodb.update_item(TableName=table, Key={"p": {"S": "a"}},
                                     UpdateExpression="SET b = b + :z",
                                     ExpressionAttributeValues={":z": {"N": "0"}})
            assert error_of(exc)[0] == "TransactionConflictException"
            # So does a transaction (its reason for that item: TransactionConflict), and a
            # TransactGetItems of it.
            with pytest.raises(ClientError) as exc:
                dynamodb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {"p": {"S": "other"}, "b": {"N": "1"}}}},
                    {"ConditionCheck": {"TableName": table, "Key": {"p": {"S": "b"}},
                                        "ConditionExpression": "attribute_exists(p)"}}])
            assert error_of(exc)[0] == "TransactionCanceledException"
            assert [r["Code"] for r in exc.value.response["CancellationReasons"]] == [
                "None", "TransactionConflict"]
            with pytest.raises(ClientError) as exc:
                dynamodb.transact_get_items(TransactItems=[
                    {"Get": {"TableName": table, "Key": {"p": {"S": "a"}}}}])
            assert "TransactionConflict" in {
                r["Code"] for r in exc.value.response["CancellationReasons"]}
            # So do writes conditional only on existence, which are otherwise one LWT that
            # does not read (docs/write-path.md): a lock is never written over.
            guarded: list[dict[str, Any]] = [
                {"op": "put_item", "Item": {"p": {"S": "a"}, "b": {"N": "0"}},
                 "ConditionExpression": "attribute_exists(p)"},
                {"op": "update_item", "Key": {"p": {"S": "b"}},
                 "UpdateExpression": "SET b = :zero", "ConditionExpression": "attribute_exists(p)",
                 "ExpressionAttributeValues": {":zero": {"N": "0"}}},
                {"op": "delete_item", "Key": {"p": {"S": "a"}},
                 "ConditionExpression": "attribute_exists(p)"},
                {"op": "put_item", "Item": {"p": {"S": "new"}, "b": {"N": "5"}},
                 "ConditionExpression": "attribute_not_exists(p)"},
            ]
            for request in guarded:
                call = dict(request)
                with pytest.raises(ClientError) as exc:
                    getattr(dynamodb, call.pop("op"))(TableName=table, **call)
                assert error_of(exc)[0] == "TransactionConflictException", request
            # Its item to create is only a lock: no read shows it.
            assert _balances(dynamodb, table) == {"a": 100, "b": 100}
            assert "Item" not in dynamodb.get_item(TableName=table, Key={"p": {"S": "new"}})
            expected = {"a": 100, "b": 100}  # rolled back once it is past its timeout
        else:
            expected = {"a": 90, "b": 110, "new": 0}  # committed: rolled forward
            # Nobody needs to touch the items: the sweep finishes the transaction.
            while _balances(dynamodb, table) != expected and time.monotonic() < started + 30:
                time.sleep(0.5)
        # Every item is free again soon: a read-modify-write of each goes through.
        for key in ("a", "b", "new"):
            while True:
                try:
                    dynamodb.update_item(TableName=table, Key={"p": {"S": key}},
                                         UpdateExpression="SET b = b + :z",
                                         ConditionExpression="attribute_exists(p)",
                                         ExpressionAttributeValues={":z": {"N": "0"}})
                    break
                except ClientError as error:
                    code = error.response["Error"]["Code"]
                    if code == "ConditionalCheckFailedException" and key not in expected:
                        break
                    assert code == "TransactionConflictException"
                    assert time.monotonic() < started + 30, "the lock was never released"
                    time.sleep(0.5)
        assert _balances(dynamodb, table) == expected
        assert os.environ.get("ALTERNATOR_TEST_CRASH_IN_TRANSACTION") is None
    finally:
        dynamodb.delete_table(TableName=table)
