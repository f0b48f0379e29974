"""PartiQL's BatchExecuteStatement and ExecuteTransaction, black-box on both backends
(docs/partiql.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of, new_key


def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


@pytest.fixture(scope="module")
def table(dynamodb: Any) -> Iterator[str]:
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")])
    yield name
    dynamodb.delete_table(TableName=name)


def statement(text: str, *parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": text, **extra}
    if parameters:
        out["Parameters"] = list(parameters)
    return out


def get(dynamodb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return dict(item) if item is not None else None


# --- BatchExecuteStatement ----------------------------------------------------------------------


def test_batch_writes_each_with_its_result(dynamodb: Any, table: str) -> None:
    p = new_key()
    for c in (1, 3, 9):
        dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(c), "v": N(1)})
    out = dynamodb.batch_execute_statement(Statements=[
        statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 2}}", S(p)),
        statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 1}}", S(p)),
        statement(f"UPDATE \"{table}\" SET v = 5 WHERE p = ? AND c = 3 AND v = 0", S(p),
                  ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        statement(f"UPDATE \"{table}\" SET w = 1 WHERE p = ? AND c = 9", S(p)),
        statement(f"DELETE FROM \"{table}\" WHERE p = ? AND c = 4", S(p)),
        statement("DELETE FROM \"no_such_table_at_all\" WHERE p = 'x' AND c = 1"),
        statement("UPDATE WHERE"),
    ], ReturnConsumedCapacity="TOTAL")
    responses = out["Responses"]
    assert len(responses) == 7
    assert responses[0] == {"TableName": table}
    assert responses[1] == {"TableName": table, "Error": {
        "Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}
    assert responses[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert responses[2]["Error"]["Item"] == {"p": S(p), "c": N(3), "v": N(1)}
    assert responses[3] == {"TableName": table}
    assert responses[4] == {"TableName": table}
    # An error found before the statement runs names no table.
    assert responses[5] == {"Error": {
        "Code": "ResourceNotFound",
        "Message": "Requested resource not found: Table: no_such_table_at_all not found"}}
    assert responses[6]["Error"]["Code"] == "ValidationError"
    assert responses[6]["Error"]["Message"].startswith(
        "Statement wasn't well formed, can't be processed: ")
    assert get(dynamodb, table, {"p": S(p), "c": N(2)}) == {"p": S(p), "c": N(2)}
    assert get(dynamodb, table, {"p": S(p), "c": N(9)}) == {
        "p": S(p), "c": N(9), "v": N(1), "w": N(1)}
    assert [c["TableName"] for c in out["ConsumedCapacity"]] == [table]
    assert out["ConsumedCapacity"][0]["CapacityUnits"] >= 3


def test_batch_reads(dynamodb: Any, table: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "v": N(1), "w": S("x")})
    out = dynamodb.batch_execute_statement(Statements=[
        statement(f'SELECT v FROM "{table}" WHERE p = ? AND c = 1', S(p), ConsistentRead=True),
        statement(f'SELECT * FROM "{table}" WHERE p = ? AND c = 2', S(p)),
        statement(f'SELECT * FROM "{table}" WHERE c = 1 AND p = ? AND v = 2', S(p)),
        statement(f'SELECT * FROM "{table}" WHERE p = ?', S(p)),
    ])
    responses = out["Responses"]
    assert responses[0] == {"TableName": table, "Item": {"v": N(1)}}
    assert responses[1] == {"TableName": table}
    # A batch SELECT reads one item by its key and nothing else.
    for refused in responses[2:]:
        assert refused["Error"] == {"Code": "ValidationError",
                                    "Message": "Only single item select is supported"}


def test_batch_cannot_mix_reads_and_writes(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.batch_execute_statement(Statements=[
            statement(f"SELECT * FROM \"{table}\" WHERE p = 'a' AND c = 1"),
            statement(f"DELETE FROM \"{table}\" WHERE p = 'a' AND c = 1"),
        ])
    assert error_of(exc) == ("ValidationException", "Read and write requests together in the "
                             "same batch is not supported.")


def test_batch_sizes(raw_dynamodb: Any, table: str) -> None:
    one = statement(f"SELECT * FROM \"{table}\" WHERE p = 'a' AND c = 1")
    for statements in ([], [one] * 26):
        with pytest.raises(ClientError) as exc:
            raw_dynamodb.batch_execute_statement(Statements=statements)
        assert error_of(exc)[0] == "ValidationException"


def test_batch_returning_and_exists(dynamodb: Any, table: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "v": N(1)})
    out = dynamodb.batch_execute_statement(Statements=[
        statement(f"DELETE FROM \"{table}\" WHERE p = ? AND c = 1 RETURNING ALL OLD *", S(p)),
        statement(f"EXISTS(SELECT * FROM \"{table}\" WHERE p = 'a' AND c = 1 AND v = 1)"),
    ])
    first, second = out["Responses"]
    # RETURNING's attributes are the statement's Item.
    assert first == {"TableName": table, "Item": {"p": S(p), "c": N(1), "v": N(1)}}
    assert second["Error"] == {
        "Code": "ValidationError",
        "Message": "EXISTS can only be used in ExecuteTransaction write requests."}


def test_batch_writes_of_one_item(dynamodb: Any, table: str) -> None:
    p = new_key()
    with pytest.raises(ClientError) as exc:
        dynamodb.batch_execute_statement(Statements=[
            statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 1}}", S(p)),
            statement(f"UPDATE \"{table}\" SET v = 1 WHERE c = 1 AND p = ?", S(p)),
        ])
    assert error_of(exc) == ("ValidationException",
                             "Provided list of item keys contains duplicates")
    assert get(dynamodb, table, {"p": S(p), "c": N(1)}) is None


# --- ExecuteTransaction -------------------------------------------------------------------------


def test_transaction_writes_commit_together(dynamodb: Any, table: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "n": N(1)})
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(2)})
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(3), "ok": {"BOOL": True}})
    out = dynamodb.execute_transaction(TransactStatements=[
        statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 0}}", S(p)),
        statement(f"UPDATE \"{table}\" SET n = n + 1 WHERE p = ? AND c = 1", S(p)),
        statement(f"DELETE FROM \"{table}\" WHERE p = ? AND c = 2", S(p)),
        statement(f"EXISTS(SELECT * FROM \"{table}\" WHERE p = ? AND c = 3 AND ok = true)",
                  S(p)),
    ], ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"][0]["TableName"] == table
    assert get(dynamodb, table, {"p": S(p), "c": N(0)}) == {"p": S(p), "c": N(0)}
    assert get(dynamodb, table, {"p": S(p), "c": N(1)}) == {"p": S(p), "c": N(1), "n": N(2)}
    assert get(dynamodb, table, {"p": S(p), "c": N(2)}) is None


def test_transaction_cancelled(dynamodb: Any, table: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "v": N(1)})
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(2), "v": N(1)})
    with pytest.raises(ClientError) as exc:
        dynamodb.execute_transaction(TransactStatements=[
            statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 5}}", S(p)),
            statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 1}}", S(p)),
            statement(f"UPDATE \"{table}\" SET v = 2 WHERE p = ? AND c = 2 AND v = 9", S(p),
                      ReturnValuesOnConditionCheckFailure="ALL_OLD"),
            statement(f"UPDATE \"{table}\" SET v = 2 WHERE p = ? AND c = 7", S(p)),
        ])
    assert error_of(exc)[0] == "TransactionCanceledException"
    reasons = exc.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1] == {"Code": "DuplicateItem",
                          "Message": "Duplicate primary key exists in table"}
    assert reasons[2]["Code"] == "ConditionalCheckFailed"
    assert reasons[2]["Item"] == {"p": S(p), "c": N(2), "v": N(1)}
    assert reasons[3]["Code"] == "ConditionalCheckFailed"
    assert get(dynamodb, table, {"p": S(p), "c": N(5)}) is None


def test_exists_is_the_condition_of_its_other_terms(dynamodb: Any, table: str) -> None:
    """EXISTS checks the SELECT's other terms on the item (as a ConditionCheck: on a missing
    item too), not that the item exists."""
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "v": N(1)})
    insert = statement(f"INSERT INTO \"{table}\" VALUE {{'p': ?, 'c': 0}}", S(p))
    with pytest.raises(ClientError) as exc:
        dynamodb.execute_transaction(TransactStatements=[insert, statement(
            f'EXISTS(SELECT * FROM "{table}" WHERE p = ? AND c = 1 AND v = 2)', S(p))])
    assert [r["Code"] for r in exc.value.response["CancellationReasons"]] == [
        "None", "ConditionalCheckFailed"]
    dynamodb.execute_transaction(TransactStatements=[insert, statement(
        f'EXISTS(SELECT * FROM "{table}" WHERE p = ? AND c = 9 AND attribute_not_exists(v))',
        S(p))])
    assert get(dynamodb, table, {"p": S(p), "c": N(0)}) == {"p": S(p), "c": N(0)}


def test_transaction_reads(dynamodb: Any, table: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "v": N(1), "w": N(2)})
    out = dynamodb.execute_transaction(TransactStatements=[
        statement(f'SELECT v FROM "{table}" WHERE p = ? AND c = 1', S(p)),
        statement(f'SELECT * FROM "{table}" WHERE p = ? AND c = 2', S(p)),
        statement(f'SELECT * FROM "{table}" WHERE p = ? AND c = 1', S(p)),
    ])
    assert out["Responses"] == [{"Item": {"v": N(1)}}, {},
                                {"Item": {"p": S(p), "c": N(1), "v": N(1), "w": N(2)}}]


def test_transaction_refusals(dynamodb: Any, raw_dynamodb: Any, table: str) -> None:
    read = statement(f"SELECT * FROM \"{table}\" WHERE p = 'a' AND c = 1")
    write = statement(f"DELETE FROM \"{table}\" WHERE p = 'a' AND c = 1")
    cases = [
        ([read, write], "ExecuteTransaction API does not support both read and write "
                        "operations in the same request."),
        ([statement(f"SELECT * FROM \"{table}\" WHERE p = 'a'")],
         "Select statements within ExecuteTransaction must specify the primary key in the "
         "where clause."),
        ([statement(f"SELECT * FROM \"{table}\" WHERE p = 'a' AND c = 1 AND v = 1")],
         "Select statements within ExecuteTransaction must specify the primary key in the "
         "where clause."),
        ([statement(f"EXISTS(SELECT * FROM \"{table}\" WHERE p = 'a' AND c = 1)")],
         "EXISTS() must contain a single item read with additional condition"),
        ([statement(f"DELETE FROM \"{table}\" WHERE p = 'a' AND c = 1 RETURNING ALL OLD *")],
         None),
        ([write, write], "Transaction request cannot include multiple operations on one item"),
        ([statement("SELECT * FROM")], None),
    ]
    for statements, message in cases:
        with pytest.raises(ClientError) as exc:
            dynamodb.execute_transaction(TransactStatements=statements)
        assert error_of(exc)[0] == "ValidationException"
        if message is not None:
            assert error_of(exc)[1] == message
    for statements in ([], [write] * 101):
        with pytest.raises(ClientError) as exc:
            raw_dynamodb.execute_transaction(TransactStatements=statements)
        assert error_of(exc)[0] == "ValidationException"


def test_transaction_client_request_token(dynamodb: Any, table: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(1), "n": N(0)})
    token = new_key()[:30]
    update = statement(f"UPDATE \"{table}\" SET n = n + 1 WHERE p = ? AND c = 1", S(p))
    dynamodb.execute_transaction(TransactStatements=[update], ClientRequestToken=token)
    dynamodb.execute_transaction(TransactStatements=[update], ClientRequestToken=token)
    assert get(dynamodb, table, {"p": S(p), "c": N(1)})["n"] == N(1)  # type: ignore[index]
    with pytest.raises(ClientError) as exc:
        dynamodb.execute_transaction(TransactStatements=[
            statement(f"UPDATE \"{table}\" SET n = n + 2 WHERE p = ? AND c = 1", S(p))],
            ClientRequestToken=token)
    assert error_of(exc)[0] == "IdempotentParameterMismatchException"
