"""CreateTable, DescribeTable, ListTables, DeleteTable through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of, unique_table_name


def test_create_describe_delete(dynamodb: Any) -> None:
    name = unique_table_name()
    created = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                   {"AttributeName": "c", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "c", "AttributeType": "B"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )["TableDescription"]
    assert created["TableName"] == name
    assert created["TableStatus"] in ("ACTIVE", "CREATING")
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "p", "KeyType": "HASH"},
                                  {"AttributeName": "c", "KeyType": "RANGE"}]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "c", "AttributeType": "B"}, {"AttributeName": "p", "AttributeType": "S"}]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert table["TableArn"].endswith(":table/" + name)
    assert name in dynamodb.list_tables()["TableNames"]
    deleted = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableName"] == name
    with pytest.raises(ClientError) as exc:
        dynamodb.describe_table(TableName=name)
    assert error_of(exc) == ("ResourceNotFoundException",
                             f"Requested resource not found: Table: {name} not found")
    assert name not in dynamodb.list_tables()["TableNames"]


def test_pay_per_request(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("k", "HASH", "N")])
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    finally:
        dynamodb.delete_table(TableName=name)


def test_create_existing_table_is_in_use(dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.create_table(
            TableName=table_hash,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_of(exc)[0] == "ResourceInUseException"


def test_delete_missing_table(dynamodb: Any) -> None:
    name = unique_table_name()
    with pytest.raises(ClientError) as exc:
        dynamodb.delete_table(TableName=name)
    assert error_of(exc) == ("ResourceNotFoundException",
                             f"Requested resource not found: Table: {name} not found")


@pytest.mark.parametrize("name, fragment", [
    ("ab", "Member must have length greater than or equal to 3"),
    ("a" * 256, "Member must have length less than or equal to 255"),
    ("bad name!", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
])
def test_invalid_table_names(raw_dynamodb: Any, name: str, fragment: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.describe_table(TableName=name)
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert fragment in message


def test_long_and_dotted_table_names_work(dynamodb: Any) -> None:
    for name in ("a.b-c_" + "x" * 100, "x" * 255):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        try:
            dynamodb.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"N": "1"}})
            item = dynamodb.get_item(TableName=name, Key={"p": {"S": "k"}})["Item"]
            assert item == {"p": {"S": "k"}, "v": {"N": "1"}}
        finally:
            dynamodb.delete_table(TableName=name)


KEY = [{"AttributeName": "p", "KeyType": "HASH"}]
DEFS = [{"AttributeName": "p", "AttributeType": "S"}]


@pytest.mark.parametrize("kwargs, message", [
    ({"KeySchema": [{"AttributeName": "p", "KeyType": "RANGE"}]},
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    ({"KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                    {"AttributeName": "p", "KeyType": "RANGE"}]},
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    ({"KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                    {"AttributeName": "q", "KeyType": "HASH"}],
      "AttributeDefinitions": [*DEFS, {"AttributeName": "q", "AttributeType": "S"}]},
     "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
    ({"AttributeDefinitions": [*DEFS, {"AttributeName": "x", "AttributeType": "S"}]},
     "One or more parameter values were invalid: Number of attributes in KeySchema does not "
     "exactly match number of attributes defined in AttributeDefinitions"),
    ({"AttributeDefinitions": [{"AttributeName": "q", "AttributeType": "S"}]},
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [p], AttributeDefinitions: [q]"),
    ({"AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "X"}]},
     "1 validation error detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' "
     "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"),
    ({"BillingMode": "PROVISIONED"}, "No provisioned throughput specified for the table"),
    ({"BillingMode": None}, "No provisioned throughput specified for the table"),
    ({"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 1}},
     "1 validation error detected: Value null at 'provisionedThroughput.writeCapacityUnits' "
     "failed to satisfy constraint: Member must not be null"),
    ({"BillingMode": "PROVISIONED", "ProvisionedThroughput": {}},
     "2 validation errors detected: Value null at 'provisionedThroughput.readCapacityUnits' "
     "failed to satisfy constraint: Member must not be null; Value null at "
     "'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must not "
     "be null"),
    ({"AttributeDefinitions": [*DEFS, {"AttributeName": "p", "AttributeType": "N"}]},
     "Duplicate AttributeName=p in AttributeDefinitions"),
    ({"BillingMode": "PAY_PER_REQUEST",
      "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
     "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
     "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"),
])
def test_create_table_validation(raw_dynamodb: Any, kwargs: dict[str, Any], message: str) -> None:
    request: dict[str, Any] = {"TableName": unique_table_name(), "KeySchema": KEY,
                               "AttributeDefinitions": DEFS, "BillingMode": "PAY_PER_REQUEST"}
    request.update(kwargs)
    if request.get("BillingMode") is None:
        del request["BillingMode"]
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.create_table(**request)
    assert error_of(exc) == ("ValidationException", message)
    assert request["TableName"] not in raw_dynamodb.list_tables()["TableNames"]


def test_create_table_missing_key_schema(raw_dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.create_table(TableName=unique_table_name(), AttributeDefinitions=DEFS,
                                  BillingMode="PAY_PER_REQUEST")
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
        "Member must not be null")


def test_list_tables_pagination(dynamodb: Any) -> None:
    names = sorted(create_table(dynamodb, [("p", "HASH", "S")]) for _ in range(3))
    try:
        seen: list[str] = []
        kwargs: dict[str, Any] = {"Limit": 1}
        while True:
            page = dynamodb.list_tables(**kwargs)
            assert len(page["TableNames"]) <= 1
            seen += page["TableNames"]
            if "LastEvaluatedTableName" not in page:
                break
            kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
        assert seen == sorted(seen)
        assert set(names) <= set(seen)
    finally:
        for name in names:
            dynamodb.delete_table(TableName=name)


@pytest.mark.parametrize("limit", [0, 101])
def test_list_tables_limit_bounds(raw_dynamodb: Any, limit: int) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.list_tables(Limit=limit)
    assert error_of(exc)[0] == "ValidationException"


def test_update_table_billing(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")])
    try:
        updated = dynamodb.update_table(
            TableName=name, BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        )["TableDescription"]
        assert updated["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
        # Once UpdateTable has changed the billing mode, the summary says so (issue 12).
        assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
        assert updated["BillingModeSummary"] == table["BillingModeSummary"]
        dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    finally:
        dynamodb.delete_table(TableName=name)


def test_update_table_needs_a_change(raw_dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_table(TableName=table_hash)
    assert error_of(exc)[0] == "ValidationException"


def test_describe_time_to_live_of_a_new_table(dynamodb: Any, table_hash: str) -> None:
    ttl = dynamodb.describe_time_to_live(TableName=table_hash)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"
