"""The real `aws dynamodb` CLI against the server, on every backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from conftest import Endpoint, unique_table_name


def aws(endpoint: Endpoint, *args: str) -> Any:
    env = dict(os.environ,
               AWS_ACCESS_KEY_ID=endpoint.access_key,
               AWS_SECRET_ACCESS_KEY=endpoint.secret_key,
               AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_PAGER="")
    result = subprocess.run(
        [sys.executable, "-m", "awscli", "dynamodb", *args,
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
