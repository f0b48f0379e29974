"""`.scylla.alternator.KEYSPACE.TABLE`: the database's own tables through Query and Scan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Endpoint
from roles import Roles

LOCAL = ".scylla.alternator.system.local"
CLIENTS = ".scylla.alternator.system.clients"


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_scan_system_local(endpoint: Endpoint, dynamodb: Any) -> None:
    items = dynamodb.scan(TableName=LOCAL)["Items"]
    assert len(items) == 1
    assert items[0]["key"] == {"S": "local"}
    if endpoint.backend == "sqlite":
        # Any role may read it: the embedded backend names no file path and no versions.
        assert not {"database_file", "release_version", "sqlite_version"} & set(items[0])
        assert endpoint.sqlite_path is not None
        assert endpoint.sqlite_path not in str(items[0])
    else:
        assert "release_version" in items[0]  # Cassandra's own system.local


def test_query_system_local_by_partition_key(dynamodb: Any) -> None:
    found = dynamodb.query(TableName=LOCAL, KeyConditionExpression="#k = :k",
                           ExpressionAttributeNames={"#k": "key"},
                           ExpressionAttributeValues={":k": {"S": "local"}})
    assert found["Count"] == 1
    assert found["Items"][0]["key"] == {"S": "local"}


def test_projection_and_filter(dynamodb: Any) -> None:
    got = dynamodb.scan(TableName=LOCAL, ProjectionExpression="#k",
                        ExpressionAttributeNames={"#k": "key"})["Items"]
    assert got == [{"key": {"S": "local"}}]
    none = dynamodb.scan(TableName=LOCAL, FilterExpression="#k = :other",
                         ExpressionAttributeNames={"#k": "key"},
                         ExpressionAttributeValues={":other": {"S": "x"}})
    assert none["Count"] == 0 and none["ScannedCount"] == 1


def test_clients_sees_the_request_reading_it(endpoint: Endpoint, dynamodb: Any) -> None:
    items = dynamodb.scan(TableName=CLIENTS)["Items"]
    mine = [i for i in items if i["client_type"] == {"S": "alternator"}]
    assert len(mine) >= 1
    me = mine[0]
    assert me["address"] == {"S": "127.0.0.1"}
    assert me["ssl_enabled"] == {"BOOL": False}
    assert me["driver_name"]["S"].startswith("Boto3/")
    assert me["username"] == {"S": endpoint.access_key}
    assert {"port", "shard_id", "scheduling_group"} <= set(me)
    # Every attribute ScyllaDB gives an Alternator client (issue 12); it leaves the CQL-only
    # ones (driver_version, hostname, protocol_version, ssl_protocol, ssl_cipher_suite) unset.
    assert set(me) == {"address", "port", "client_type", "connection_stage", "driver_name",
                       "shard_id", "ssl_enabled", "username", "scheduling_group"}
    assert me["connection_stage"] == {"S": "ESTABLISHED"}


def test_get_item_on_system_table_is_refused(raw_dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.get_item(TableName=LOCAL, Key={"key": {"S": "local"}})
    assert code_of(exc) in ("ResourceNotFoundException", "ValidationException")


def test_non_system_keyspace_is_refused(dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.scan(TableName=f".scylla.alternator.alternator_{table_hash}.{table_hash}")
    assert code_of(exc) == "ResourceNotFoundException"


@pytest.fixture(scope="module")
def roles(endpoint: Endpoint) -> Iterator[Roles]:
    manager = Roles(endpoint)
    yield manager
    manager.close()


def test_password_hashes_hidden_from_non_superusers(endpoint: Endpoint, dynamodb: Any,
                                                    roles: Roles) -> None:
    if endpoint.backend != "cassandra":
        pytest.skip("the embedded backend has no CQL auth tables")
    table = ".scylla.alternator.system_auth.roles"
    as_superuser = dynamodb.scan(TableName=table)["Items"]
    assert any("salted_hash" in i for i in as_superuser)
    name, secret = roles.create()
    client = Endpoint(endpoint.backend, endpoint.url, name, secret).client()
    with pytest.raises(ClientError) as exc:
        client.scan(TableName=table)
    assert code_of(exc) == "AccessDeniedException"
    roles.grant("SELECT", name, None)
    items = client.scan(TableName=table)["Items"]
    assert items and all("salted_hash" not in i for i in items)
    assert any(i["role"] == {"S": name} for i in items)


def test_system_table_paging(endpoint: Endpoint, dynamodb: Any) -> None:
    if endpoint.backend != "cassandra":
        pytest.skip("the embedded backend's system tables have one row")
    table = ".scylla.alternator.system_schema.tables"
    everything = dynamodb.scan(TableName=table, Limit=1000)["Items"]
    seen: list[Any] = []
    kwargs: dict[str, Any] = {"TableName": table, "Limit": 5}
    while True:
        page = dynamodb.scan(**kwargs)
        seen += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    key = lambda i: (i["keyspace_name"]["S"], i["table_name"]["S"])  # noqa: E731
    assert sorted(map(key, seen)) == sorted(map(key, everything))


def test_system_table_writes(endpoint: Endpoint, dynamodb: Any, roles: Roles) -> None:
    """The Cassandra test server runs with --alternator-allow-system-table-write, the embedded
    one without it."""
    table = ".scylla.alternator.system_traces.sessions"
    session = "6e1d6a6e-0000-4000-8000-000000000001"
    item = {"session_id": {"S": session}, "command": {"S": "QUERY"},
            "duration": {"N": "42"}, "parameters": {"M": {"k": {"S": "v"}}}}
    if endpoint.backend != "cassandra":
        with pytest.raises(ClientError) as exc:
            dynamodb.put_item(TableName=table, Item=item)
        assert code_of(exc) == "ValidationException"
        assert "--alternator-allow-system-table-write" in exc.value.response["Error"]["Message"]
        return
    name, secret = roles.create()
    other = Endpoint(endpoint.backend, endpoint.url, name, secret).client()
    with pytest.raises(ClientError) as exc:
        other.put_item(TableName=table, Item=item)
    assert code_of(exc) == "AccessDeniedException"
    dynamodb.put_item(TableName=table, Item=item)
    found = dynamodb.query(TableName=table, KeyConditionExpression="session_id = :s",
                           ExpressionAttributeValues={":s": {"S": session}})["Items"]
    assert len(found) == 1
    assert found[0]["command"] == {"S": "QUERY"}
    assert found[0]["duration"] == {"N": "42"}
    assert found[0]["parameters"] == {"M": {"k": {"S": "v"}}}
    with pytest.raises(ClientError) as exc:
        dynamodb.put_item(TableName=table, Item={**item, "no_such_column": {"S": "x"}})
    assert code_of(exc) == "ValidationException"
    dynamodb.delete_item(TableName=table, Key={"session_id": {"S": session}})
    assert dynamodb.query(TableName=table, KeyConditionExpression="session_id = :s",
                          ExpressionAttributeValues={":s": {"S": session}})["Count"] == 0
