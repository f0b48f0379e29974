"""PartiQL statements behave as the operations they run as: permissions, streams, system
tables (docs/partiql.md), black-box on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_indexes import index
from test_streams import read_all, settle, stream_table, streams_client, summary

from conftest import Endpoint, create_table, error_of, new_key
from roles import Roles


@pytest.fixture(scope="module")
def roles(endpoint: Endpoint) -> Iterator[Roles]:
    manager = Roles(endpoint)
    yield manager
    manager.close()


@pytest.fixture(scope="module")
def table(dynamodb: Any) -> Iterator[str]:
    name = create_table(dynamodb, [("p", "HASH", "S")])
    dynamodb.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"N": "1"}})
    yield name
    dynamodb.delete_table(TableName=name)


def as_role(endpoint: Endpoint, access_key: str, secret: str) -> Any:
    return Endpoint(endpoint.backend, endpoint.url, access_key, secret).client()


def test_permissions_are_those_of_the_operations(endpoint: Endpoint, roles: Roles,
                                                 table: str) -> None:
    name, secret = roles.create()
    client = as_role(endpoint, name, secret)
    select = f"SELECT * FROM \"{table}\" WHERE p = 'k'"
    writes = [f"INSERT INTO \"{table}\" VALUE {{'p': '{new_key()}'}}",
              f"UPDATE \"{table}\" SET v = 2 WHERE p = 'k'",
              f"DELETE FROM \"{table}\" WHERE p = 'other'"]
    for statement in [select, *writes]:
        with pytest.raises(ClientError) as exc:
            client.execute_statement(Statement=statement)
        assert error_of(exc)[0] == "AccessDeniedException", statement
    roles.grant("SELECT", name, table)
    assert client.execute_statement(Statement=select)["Items"] == [
        {"p": {"S": "k"}, "v": {"N": "1"}}]
    for statement in writes:
        with pytest.raises(ClientError) as exc:
            client.execute_statement(Statement=statement)
        assert error_of(exc)[0] == "AccessDeniedException", statement
        assert "MODIFY" in error_of(exc)[1]
    out = client.batch_execute_statement(Statements=[{"Statement": s} for s in writes])
    assert [r["Error"]["Code"] for r in out["Responses"]] == ["AccessDenied"] * 3
    with pytest.raises(ClientError) as exc:
        client.execute_transaction(TransactStatements=[{"Statement": writes[1]}])
    assert error_of(exc)[0] == "AccessDeniedException"


def test_writes_reach_the_stream(endpoint: Endpoint, dynamodb: Any) -> None:
    name, arn = stream_table(dynamodb)
    try:
        p = new_key()
        dynamodb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'p': ?}}",
                                   Parameters=[{"S": p}])
        dynamodb.execute_statement(Statement=f"UPDATE \"{name}\" SET v = 1 WHERE p = ?",
                                   Parameters=[{"S": p}])
        dynamodb.execute_statement(Statement=f"DELETE FROM \"{name}\" WHERE p = ?",
                                   Parameters=[{"S": p}])
        settle(endpoint)
        records = read_all(streams_client(endpoint), arn)
        assert summary(records) == [("INSERT", p), ("MODIFY", p), ("REMOVE", p)]
    finally:
        dynamodb.delete_table(TableName=name)


def test_system_tables_are_read_as_scans(dynamodb: Any) -> None:
    name = ".scylla.alternator.system.clients"
    found = dynamodb.execute_statement(
        Statement=f"SELECT client_type, port FROM \"{name}\" WHERE client_type = ?",
        Parameters=[{"S": "alternator"}])
    assert found["Items"] and all(set(i) == {"client_type", "port"} for i in found["Items"])
    with pytest.raises(ClientError) as exc:
        dynamodb.execute_statement(Statement=f"DELETE FROM \"{name}\" WHERE address = 'x'")
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        dynamodb.execute_statement(Statement='SELECT * FROM ".scylla.alternator.nosuch.t"')
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_multi_attribute_index_keys_are_queried(dynamodb: Any) -> None:
    """A SELECT of an index keyed by several attributes is a Query when every partition-key
    attribute has an equality; sort-key terms are pushed left to right."""
    name = create_table(dynamodb, [("p", "HASH", "S")],
                        attributes=(("t", "S"), ("r", "S"), ("y", "N"), ("m", "N")),
                        GlobalSecondaryIndexes=[index("multi", ["t", "r"], ["y", "m"])])
    try:
        n = 0
        for t in ("A", "B"):
            for y in (2023, 2024):
                for m in (1, 5, 12):
                    dynamodb.put_item(TableName=name, Item={
                        "p": {"S": f"p{n}"}, "t": {"S": t}, "r": {"S": "eu"},
                        "y": {"N": str(y)}, "m": {"N": str(m)}, "v": {"N": str(n)}})
                    n += 1

        def months(where: str, **extra: Any) -> list[tuple[int, int]]:
            found = dynamodb.execute_statement(
                Statement=f'SELECT y, m FROM "{name}"."multi" WHERE {where}', **extra)
            return [(int(i["y"]["N"]), int(i["m"]["N"])) for i in found["Items"]]

        everything = [(y, m) for y in (2023, 2024) for m in (1, 5, 12)]
        assert months("t = 'A' AND r = 'eu'") == everything
        assert months("r = 'eu' AND t = 'A' AND y = 2024") == everything[3:]
        assert months("t = 'A' AND r = 'eu' AND y = 2023 AND m >= 5") == [(2023, 5), (2023, 12)]
        assert months("t = 'A' AND r = 'eu' AND y = 2024 ORDER BY y DESC") == [
            (2024, 12), (2024, 5), (2024, 1)]
        # A term the key condition cannot hold is applied to what the Query returns.
        assert months("t = 'A' AND r = 'eu' AND m = 5") == [(2023, 5), (2024, 5)]
        assert months("t = 'A' AND r = 'eu' AND y > 2023 AND v <> 4") == [(2024, 1), (2024, 12)]
        # Without every partition-key attribute it is a Scan of the index.
        assert sorted(months("t = 'B' AND m = 1")) == [(2023, 1), (2024, 1)]
    finally:
        dynamodb.delete_table(TableName=name)
