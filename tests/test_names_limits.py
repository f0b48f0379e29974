"""Attribute names and tags within DynamoDB's limits (issue 12).

Key attribute names: 1 to 255 bytes, at CreateTable (KeySchema and AttributeDefinitions) and
UpdateTable. Every other attribute name: 1 to 65,535 bytes, on every path that names one
(items, ExpressionAttributeNames, AttributesToGet, AttributeUpdates, Expected, filters).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Endpoint, create_table, error_of, new_key, signed_headers, unique_table_name
from test_http import request

TOO_LARGE = ("One or more parameter values were invalid: Attribute name is too large, must be "
             "less than 65536 bytes")



def create(client: Any, pk: str, sk: str | None = None) -> str:
    name = unique_table_name()
    schema = [{"AttributeName": pk, "KeyType": "HASH"}]
    definitions = [{"AttributeName": pk, "AttributeType": "S"}]
    if sk is not None:
        schema.append({"AttributeName": sk, "KeyType": "RANGE"})
        definitions.append({"AttributeName": sk, "AttributeType": "S"})
    client.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=definitions,
                        BillingMode="PAY_PER_REQUEST")
    return name


@pytest.mark.parametrize("pk, sk, member", [
    ("k" * 256, None, "attributeDefinitions.1.member.attributeName"),
    ("x", "é" * 128, "attributeDefinitions.2.member.attributeName"),  # 256 bytes, 128 chars
])
def test_key_attribute_names_longer_than_255_bytes_are_refused(
        raw_dynamodb: Any, pk: str, sk: str | None, member: str) -> None:
    with pytest.raises(ClientError) as exc:
        create(raw_dynamodb, pk, sk)
    name = sk if sk is not None else pk
    assert error_of(exc) == (
        "ValidationException",
        f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy "
        "constraint: Member must have length less than or equal to 255")


def test_empty_key_attribute_name_is_refused(raw_dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        create(raw_dynamodb, "")
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '' at 'attributeDefinitions.1.member.attributeName' "
        "failed to satisfy constraint: Member must have length greater than or equal to 1")


def test_key_attribute_names_of_255_bytes_work(dynamodb: Any) -> None:
    pk, sk = "p" * 255, "é" * 127 + "s"
    name = create(dynamodb, pk, sk)
    try:
        item = {pk: {"S": "a"}, sk: {"S": "b"}, "n" * 1000: {"N": "1"}}
        dynamodb.put_item(TableName=name, Item=item)
        got = dynamodb.get_item(TableName=name, Key={pk: {"S": "a"}, sk: {"S": "b"}},
                                ConsistentRead=True)
        assert got["Item"] == item
    finally:
        dynamodb.delete_table(TableName=name)


def test_update_table_checks_attribute_definitions(raw_dynamodb: Any, table_hash: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_table(
            TableName=table_hash, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k" * 256, "AttributeType": "S"}])
    assert error_of(exc)[0] == "ValidationException"
    assert "Member must have length less than or equal to 255" in error_of(exc)[1]


def test_non_key_names_longer_than_65535_bytes_are_refused(raw_dynamodb: Any,
                                                           table_hash: str) -> None:
    long_name = "x" * 65536
    key = {"p": {"S": new_key()}}
    calls: list[tuple[Any, dict[str, Any]]] = [
        (raw_dynamodb.put_item, {"Item": {**key, long_name: {"N": "1"}}}),
        (raw_dynamodb.get_item, {"Key": key, "ProjectionExpression": "#n",
                                 "ExpressionAttributeNames": {"#n": long_name}}),
        (raw_dynamodb.get_item, {"Key": key, "AttributesToGet": [long_name]}),
        (raw_dynamodb.update_item, {"Key": key, "AttributeUpdates": {
            long_name: {"Action": "PUT", "Value": {"N": "1"}}}}),
        (raw_dynamodb.update_item, {"Key": key, "UpdateExpression": "SET #n = :v",
                                    "ExpressionAttributeNames": {"#n": long_name},
                                    "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        (raw_dynamodb.update_item, {"Key": key, "UpdateExpression": "SET a = :v",
                                    "ConditionExpression": "#n = :v",
                                    "ExpressionAttributeNames": {"#n": long_name},
                                    "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        (raw_dynamodb.delete_item, {"Key": key, "Expected": {long_name: {"Exists": False}}}),
        (raw_dynamodb.scan, {"ScanFilter": {long_name: {"ComparisonOperator": "NULL"}}}),
    ]
    for call, kwargs in calls:
        with pytest.raises(ClientError) as exc:
            call(TableName=table_hash, **kwargs)
        assert error_of(exc) == ("ValidationException", TOO_LARGE), kwargs.keys()


def test_names_of_65535_bytes_work(dynamodb: Any, table_hash: str) -> None:
    name = "y" * 65535
    key = {"p": {"S": new_key()}}
    dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET #n = :v",
                         ExpressionAttributeNames={"#n": name},
                         ExpressionAttributeValues={":v": {"N": "1"}})
    got = dynamodb.get_item(TableName=table_hash, Key=key, ProjectionExpression="#n",
                            ExpressionAttributeNames={"#n": name}, ConsistentRead=True)
    assert got["Item"] == {name: {"N": "1"}}


# --- tags ---------------------------------------------------------------------------------------

PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"


@pytest.mark.parametrize("tags, message", [
    ([{"Key": "a!b", "Value": "v"}],
     f"1 validation error detected: Value 'a!b' at 'tags.1.member.key' failed to satisfy "
     f"constraint: Member must satisfy regular expression pattern: {PATTERN}"),
    ([{"Key": "ok", "Value": "v"}, {"Key": "k", "Value": "v;"}],
     f"1 validation error detected: Value 'v;' at 'tags.2.member.value' failed to satisfy "
     f"constraint: Member must satisfy regular expression pattern: {PATTERN}"),
    ([{"Key": "k" * 129, "Value": "v"}],
     f"1 validation error detected: Value '{'k' * 129}' at 'tags.1.member.key' failed to "
     "satisfy constraint: Member must have length less than or equal to 128"),
    ([{"Key": "", "Value": "v" * 257}],
     "2 validation errors detected: Value '' at 'tags.1.member.key' failed to satisfy "
     "constraint: Member must have length greater than or equal to 1; "
     f"Value '{'v' * 257}' at 'tags.1.member.value' failed to satisfy constraint: Member must "
     "have length less than or equal to 256"),
])
def test_tags_are_checked_at_create_table_and_tag_resource(
        raw_dynamodb: Any, table_hash: str, tags: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ClientError) as exc:
        create_table(raw_dynamodb, [("p", "HASH", "S")], Tags=tags)
    assert error_of(exc) == ("ValidationException", message)
    arn = raw_dynamodb.describe_table(TableName=table_hash)["Table"]["TableArn"]
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.tag_resource(ResourceArn=arn, Tags=tags)
    assert error_of(exc) == ("ValidationException", message)


def test_tags_of_every_allowed_character_work(dynamodb: Any, table_hash: str) -> None:
    arn = dynamodb.describe_table(TableName=table_hash)["Table"]["TableArn"]
    tags = [{"Key": "Ünï cödé 12 _.:/=+-@", "Value": ""}, {"Key": "k" * 128, "Value": "v" * 256}]
    dynamodb.tag_resource(ResourceArn=arn, Tags=tags)
    got = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert all(tag in got for tag in tags)
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=[t["Key"] for t in tags])


def test_tag_resource_refuses_an_empty_tag_list(raw_dynamodb: Any, table_hash: str) -> None:
    arn = raw_dynamodb.describe_table(TableName=table_hash)["Table"]["TableArn"]
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.tag_resource(ResourceArn=arn, Tags=[])
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member "
        "must have length greater than or equal to 1")


@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource",
                                       "list_tags_of_resource"])
def test_a_malformed_arn_is_a_validation_error(raw_dynamodb: Any, operation: str) -> None:
    kwargs: dict[str, Any] = {"tag_resource": {"Tags": [{"Key": "k", "Value": "v"}]},
                              "untag_resource": {"TagKeys": ["k"]},
                              "list_tags_of_resource": {}}[operation]
    with pytest.raises(ClientError) as exc:
        getattr(raw_dynamodb, operation)(ResourceArn="I_do_not_exist", **kwargs)
    assert error_of(exc) == ("ValidationException",
                             "Invalid TableArn: ARNs must start with 'arn:': I_do_not_exist")


def test_internal_table_prefix_is_refused_at_create_table(raw_dynamodb: Any) -> None:
    name = ".scylla.alternator.t_" + new_key()[:8]
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "p",
                                                         "AttributeType": "S"}])
    assert error_of(exc) == (
        "ValidationException",
        "Prefix .scylla.alternator. is reserved for accessing internal tables")


def test_tag_and_untag_answer_an_empty_body(endpoint: Endpoint, table_hash: str) -> None:
    arn = endpoint.client().describe_table(TableName=table_hash)["Table"]["TableArn"]
    for operation, body in (("TagResource", {"ResourceArn": arn,
                                             "Tags": [{"Key": "e", "Value": "v"}]}),
                            ("UntagResource", {"ResourceArn": arn, "TagKeys": ["e"]})):
        data = json.dumps(body).encode()
        headers = signed_headers(endpoint, data, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
        assert request(endpoint, "POST", "/", data, headers) == (200, b"")
