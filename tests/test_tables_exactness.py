"""Table requests as DynamoDB answers them (issue 12): nothing accepted and then ignored,
DeleteTable's description, BillingModeSummary after UpdateTable."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of, unique_table_name

KEY = [{"AttributeName": "p", "KeyType": "HASH"}]
DEFS = [{"AttributeName": "p", "AttributeType": "S"}]



@pytest.mark.parametrize("member, value", [
    ("SSESpecification", {"Enabled": True}),
    ("DeletionProtectionEnabled", True),
    ("TableClass", "STANDARD_INFREQUENT_ACCESS"),
    ("OnDemandThroughput", {"MaxReadRequestUnits": 10}),
    ("WarmThroughput", {"ReadUnitsPerSecond": 10}),
    ("ResourcePolicy", "{}"),
])
def test_create_table_refuses_what_it_cannot_do(raw_dynamodb: Any, member: str,
                                                value: Any) -> None:
    name = unique_table_name()
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.create_table(TableName=name, KeySchema=KEY, AttributeDefinitions=DEFS,
                                  BillingMode="PAY_PER_REQUEST", **{member: value})
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message.startswith(member) and message.endswith("is not supported yet")
    assert name not in raw_dynamodb.list_tables()["TableNames"]


def test_create_table_accepts_features_turned_off(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")],
                        StreamSpecification={"StreamEnabled": False},
                        SSESpecification={"Enabled": False}, DeletionProtectionEnabled=False,
                        TableClass="STANDARD")
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert "StreamSpecification" not in table and "LatestStreamArn" not in table
    finally:
        dynamodb.delete_table(TableName=name)


def test_update_table_refuses_a_table_class_it_cannot_give(raw_dynamodb: Any,
                                                           table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_table(TableName=table_hash, TableClass="STANDARD_INFREQUENT_ACCESS")
    assert error_of(exc) == ("ValidationException",
                             "TableClass STANDARD_INFREQUENT_ACCESS is not supported yet")


def test_delete_table_description(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")])
    got = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert got["TableName"] == name
    assert got["TableStatus"] == "DELETING"
    assert got["TableArn"].endswith("/" + name) and got["TableId"]
    for member in ("CreationDateTime", "KeySchema", "AttributeDefinitions"):
        assert member not in got
    assert got["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert got["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] is not None
    assert got["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0,
                                            "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}


def test_billing_mode_summary_after_update_table(dynamodb: Any) -> None:
    name = unique_table_name()
    dynamodb.create_table(TableName=name, KeySchema=KEY, AttributeDefinitions=DEFS,
                          ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                 "WriteCapacityUnits": 1})
    try:
        assert "BillingModeSummary" not in dynamodb.describe_table(TableName=name)["Table"]
        updated = dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
        summary = updated["TableDescription"]["BillingModeSummary"]
        assert summary["BillingMode"] == "PAY_PER_REQUEST"
        switched = summary["LastUpdateToPayPerRequestDateTime"]
        assert dynamodb.describe_table(TableName=name)["Table"]["BillingModeSummary"] == summary
        back = dynamodb.update_table(
            TableName=name, BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
        )["TableDescription"]["BillingModeSummary"]
        assert back == {"BillingMode": "PROVISIONED",
                        "LastUpdateToPayPerRequestDateTime": switched}
    finally:
        dynamodb.delete_table(TableName=name)
