"""A table's life on Cassandra: what a crash or a failed drop leaves never blocks its name."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from alternator.config import CassandraConfig
from alternator.schema import KeyAttribute, TableSchema
from alternator.storage.cassandra.session import replication_clause
from alternator.storage.codec import cql_names

from conftest import Endpoint, cassandra_address, unique_table_name


@pytest.fixture
def cql(endpoint: Endpoint) -> Iterator[Any]:
    if endpoint.backend != "cassandra":
        pytest.skip("the Cassandra backend's metadata")
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    address = cassandra_address()
    assert address is not None
    cluster = Cluster([address[0]], port=address[1],
                      auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


def _create(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])


def test_a_claim_left_creating_by_a_crash_is_taken_over(cql: Any, dynamodb: Any) -> None:
    name = unique_table_name()
    crashed = TableSchema(name, KeyAttribute("p", "S"), None, (KeyAttribute("p", "S"),),
                          "crashed-id", time.time() - 3600)
    cql.execute("INSERT INTO alternator.tables (table_name, definition, status) "
                "VALUES (%s, %s, 'CREATING')", (name, crashed.to_json()))
    _create(dynamodb, name)
    try:
        assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    finally:
        dynamodb.delete_table(TableName=name)


def test_a_recent_claim_still_holds_the_name(cql: Any, dynamodb: Any) -> None:
    name = unique_table_name()
    creating = TableSchema(name, KeyAttribute("p", "S"), None, (KeyAttribute("p", "S"),),
                           "other-id", time.time())
    cql.execute("INSERT INTO alternator.tables (table_name, definition, status) "
                "VALUES (%s, %s, 'CREATING')", (name, creating.to_json()))
    try:
        with pytest.raises(dynamodb.exceptions.ResourceInUseException):
            _create(dynamodb, name)
    finally:
        cql.execute("DELETE FROM alternator.tables WHERE table_name = %s", (name,))


def test_a_keyspace_left_by_a_failed_drop_never_reappears(cql: Any, dynamodb: Any) -> None:
    name = unique_table_name()
    keyspace, table = cql_names(name)
    clause = replication_clause(CassandraConfig(replication_factor=1))
    cql.execute(f'CREATE KEYSPACE "{keyspace}" WITH replication = {clause}')
    cql.execute(f'CREATE TABLE "{keyspace}"."{table}" (p text PRIMARY KEY, ":attrs" '
                'map<text, blob>, ":version" uuid)')
    cql.execute(f'INSERT INTO "{keyspace}"."{table}" (p) VALUES (%s)', ("stale",))
    _create(dynamodb, name)
    try:
        assert dynamodb.scan(TableName=name, ConsistentRead=True)["Items"] == []
        dynamodb.put_item(TableName=name, Item={"p": {"S": "new"}})
        assert dynamodb.scan(TableName=name, ConsistentRead=True)["Items"] == [
            {"p": {"S": "new"}}]
    finally:
        dynamodb.delete_table(TableName=name)


def test_a_key_attribute_may_take_an_internal_column_name(dynamodb: Any) -> None:
    name = unique_table_name()
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": ":attrs", "KeyType": "HASH"},
                                     {"AttributeName": ":version", "KeyType": "RANGE"}],
                          AttributeDefinitions=[
                              {"AttributeName": ":attrs", "AttributeType": "S"},
                              {"AttributeName": ":version", "AttributeType": "N"}])
    try:
        item = {":attrs": {"S": "a"}, ":version": {"N": "1"}, "x": {"S": "y"}}
        dynamodb.put_item(TableName=name, Item=item)
        assert dynamodb.get_item(TableName=name, Key={":attrs": {"S": "a"},
                                                      ":version": {"N": "1"}},
                                 ConsistentRead=True)["Item"] == item
        got = dynamodb.query(TableName=name, KeyConditionExpression="#p = :p",
                             ExpressionAttributeNames={"#p": ":attrs"},
                             ExpressionAttributeValues={":p": {"S": "a"}})["Items"]
        assert got == [item]
    finally:
        dynamodb.delete_table(TableName=name)
