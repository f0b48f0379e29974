"""The real `aws dynamodb` CLI against the server, on every backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from conftest import Endpoint, unique_table_name


def aws(endpoint: Endpoint, *args: str, service: str = "dynamodb") -> Any:
    env = dict(os.environ,
               AWS_ACCESS_KEY_ID=endpoint.access_key,
               AWS_SECRET_ACCESS_KEY=endpoint.secret_key,
               AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_PAGER="")
    result = subprocess.run(
        [sys.executable, "-m", "awscli", service, *args,
         "--endpoint-url", endpoint.url, "--output", "json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_aws_cli_walkthrough(endpoint: Endpoint) -> None:
    name = unique_table_name("cli")
    created = aws(endpoint, "create-table", "--table-name", name,
                  "--attribute-definitions", "AttributeName=Species,AttributeType=S",
                  "AttributeName=MonsterName,AttributeType=S",
                  "--key-schema", "AttributeName=Species,KeyType=HASH",
                  "AttributeName=MonsterName,KeyType=RANGE",
                  "--provisioned-throughput", "ReadCapacityUnits=5,WriteCapacityUnits=5")
    assert created["TableDescription"]["TableName"] == name
    try:
        assert name in aws(endpoint, "list-tables")["TableNames"]
        item = {"Species": {"S": "Kraken"}, "MonsterName": {"S": "Bob"}, "Arms": {"N": "8"}}
        aws(endpoint, "put-item", "--table-name", name, "--item", json.dumps(item))
        got = aws(endpoint, "get-item", "--table-name", name, "--key",
                  json.dumps({"Species": {"S": "Kraken"}, "MonsterName": {"S": "Bob"}}))
        assert got["Item"] == item
    finally:
        deleted = aws(endpoint, "delete-table", "--table-name", name)
    assert deleted["TableDescription"]["TableName"] == name
    assert name not in aws(endpoint, "list-tables")["TableNames"]


def test_aws_cli_indexes(endpoint: Endpoint) -> None:
    """create-table with a GSI and an LSI, describe-table, query --index-name, and a GSI added
    by update-table, all through the CLI's own shorthand and JSON arguments."""
    name = unique_table_name("cli")
    aws(endpoint, "create-table", "--table-name", name, "--billing-mode", "PAY_PER_REQUEST",
        "--attribute-definitions", "AttributeName=Species,AttributeType=S",
        "AttributeName=MonsterName,AttributeType=S", "AttributeName=Arms,AttributeType=N",
        "AttributeName=Home,AttributeType=S",
        "--key-schema", "AttributeName=Species,KeyType=HASH",
        "AttributeName=MonsterName,KeyType=RANGE",
        "--global-secondary-indexes", json.dumps([{
            "IndexName": "by_home", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "Home", "KeyType": "HASH"}]}]),
        "--local-secondary-indexes", json.dumps([{
            "IndexName": "by_arms", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "Species", "KeyType": "HASH"},
                          {"AttributeName": "Arms", "KeyType": "RANGE"}]}]))
    try:
        table = aws(endpoint, "describe-table", "--table-name", name)["Table"]
        (gsi,) = table["GlobalSecondaryIndexes"]
        assert (gsi["IndexName"], gsi["IndexStatus"], gsi["Projection"]) == \
            ("by_home", "ACTIVE", {"ProjectionType": "KEYS_ONLY"})
        (lsi,) = table["LocalSecondaryIndexes"]
        assert [k["AttributeName"] for k in lsi["KeySchema"]] == ["Species", "Arms"]
        for monster, arms, home in (("Bob", 8, "sea"), ("Alice", 10, "sea"), ("Carl", 6, "lake")):
            aws(endpoint, "put-item", "--table-name", name, "--item", json.dumps({
                "Species": {"S": "Kraken"}, "MonsterName": {"S": monster},
                "Arms": {"N": str(arms)}, "Home": {"S": home}}))
        found = aws(endpoint, "query", "--table-name", name, "--index-name", "by_arms",
                    "--key-condition-expression", "Species = :s AND Arms > :a",
                    "--expression-attribute-values",
                    json.dumps({":s": {"S": "Kraken"}, ":a": {"N": "6"}}))
        assert [i["MonsterName"]["S"] for i in found["Items"]] == ["Bob", "Alice"]
        found = aws(endpoint, "query", "--table-name", name, "--index-name", "by_home",
                    "--key-condition-expression", "Home = :h",
                    "--expression-attribute-values", json.dumps({":h": {"S": "sea"}}))
        assert found["Count"] == 2
        assert sorted(i["MonsterName"]["S"] for i in found["Items"]) == ["Alice", "Bob"]
        assert all(set(i) == {"Species", "MonsterName", "Home"} for i in found["Items"])

        aws(endpoint, "update-table", "--table-name", name,
            "--attribute-definitions", "AttributeName=Arms,AttributeType=N",
            "--global-secondary-index-updates", json.dumps([{"Create": {
                "IndexName": "by_arms_g", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "Arms", "KeyType": "HASH"}]}}]))
        deadline = time.monotonic() + 120
        while True:
            indexes = aws(endpoint, "describe-table", "--table-name", name)["Table"][
                "GlobalSecondaryIndexes"]
            if all(ix["IndexStatus"] == "ACTIVE" for ix in indexes):
                break
            assert time.monotonic() < deadline, indexes
            time.sleep(0.5)
        found = aws(endpoint, "query", "--table-name", name, "--index-name", "by_arms_g",
                    "--key-condition-expression", "Arms = :a",
                    "--expression-attribute-values", json.dumps({":a": {"N": "10"}}))
        assert [i["MonsterName"]["S"] for i in found["Items"]] == ["Alice"]
    finally:
        aws(endpoint, "delete-table", "--table-name", name)


def test_aws_cli_streams(endpoint: Endpoint) -> None:
    """`aws dynamodbstreams` reads a stream that `aws dynamodb` enabled."""
    name = unique_table_name("cli_streams")
    aws(endpoint, "create-table", "--table-name", name, "--billing-mode", "PAY_PER_REQUEST",
        "--attribute-definitions", "AttributeName=id,AttributeType=S",
        "--key-schema", "AttributeName=id,KeyType=HASH")
    try:
        table = aws(endpoint, "update-table", "--table-name", name, "--stream-specification",
                    "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")["TableDescription"]
        arn = table["LatestStreamArn"]
        aws(endpoint, "put-item", "--table-name", name, "--item",
            json.dumps({"id": {"S": "cli"}, "n": {"N": "1"}}))
        streams = aws(endpoint, "list-streams", "--table-name", name,
                      service="dynamodbstreams")["Streams"]
        assert [s["StreamArn"] for s in streams] == [arn]
        time.sleep(1.3)  # past the Cassandra server's time window
        shards = aws(endpoint, "describe-stream", "--stream-arn", arn,
                     service="dynamodbstreams")["StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            iterator = aws(endpoint, "get-shard-iterator", "--stream-arn", arn, "--shard-id",
                           shard["ShardId"], "--shard-iterator-type", "TRIM_HORIZON",
                           service="dynamodbstreams")["ShardIterator"]
            records += aws(endpoint, "get-records", "--shard-iterator", iterator,
                           service="dynamodbstreams")["Records"]
        assert [(r["eventName"], r["dynamodb"]["NewImage"]) for r in records] == [
            ("INSERT", {"id": {"S": "cli"}, "n": {"N": "1"}})]
    finally:
        aws(endpoint, "delete-table", "--table-name", name)


def test_aws_cli_execute_statement(endpoint: Endpoint) -> None:
    """`aws dynamodb execute-statement`, unmodified, runs PartiQL (docs/partiql.md)."""
    name = unique_table_name("cli")
    aws(endpoint, "create-table", "--table-name", name, "--billing-mode", "PAY_PER_REQUEST",
        "--attribute-definitions", "AttributeName=k,AttributeType=S",
        "--key-schema", "AttributeName=k,KeyType=HASH")
    try:
        out = aws(endpoint, "execute-statement", "--statement",
                  f"INSERT INTO \"{name}\" VALUE {{'k': 'a', 'n': 1}}")
        assert out == {"Items": []}
        aws(endpoint, "execute-statement", "--statement",
            f"UPDATE \"{name}\" SET n = n + 1 WHERE k = ?", "--parameters", '[{"S": "a"}]')
        found = aws(endpoint, "execute-statement", "--statement",
                    f"SELECT * FROM \"{name}\" WHERE k = 'a'")
        assert found["Items"] == [{"k": {"S": "a"}, "n": {"N": "2"}}]
        batch = aws(endpoint, "batch-execute-statement", "--statements", json.dumps([
            {"Statement": f"SELECT n FROM \"{name}\" WHERE k = ?",
             "Parameters": [{"S": "a"}]}]))
        assert batch["Responses"] == [{"TableName": name, "Item": {"n": {"N": "2"}}}]
    finally:
        aws(endpoint, "delete-table", "--table-name", name)
