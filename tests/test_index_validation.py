"""Every refusal of a CreateTable with secondary indexes, as a table of cases: the request, and
the exact error DynamoDB answers it with. A refused CreateTable creates nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of, unique_table_name

INVALID = "One or more parameter values were invalid: "


def _keys(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"AttributeName": n, "KeyType": k} for n, k in pairs]


def _gsi(name: str, *pairs: tuple[str, str], projection: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": _keys(*pairs),
            "Projection": projection or {"ProjectionType": "ALL"}, **extra}


def _request(definitions: dict[str, str] | None = None, range_key: bool = True,
             **extra: Any) -> dict[str, Any]:
    """A CreateTable request: key p (S), sort key c (N) unless range_key is false."""
    if definitions is None:
        definitions = {"p": "S", "c": "N", "g": "S"} if range_key else {"p": "S", "g": "S"}
    keys = [("p", "HASH"), ("c", "RANGE")] if range_key else [("p", "HASH")]
    return {"KeySchema": _keys(*keys), "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t}
                                     for n, t in definitions.items()], **extra}


def _constraint(value: str, member: str, rule: str) -> str:
    return (f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: {rule}")


G = ("g", "HASH")
C = ("c", "RANGE")
P = ("p", "HASH")
PROVISIONED = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}

CASES: list[tuple[str, Callable[[], dict[str, Any]], str, str]] = [
    ("index key not defined", lambda: _request(
        definitions={"p": "S", "c": "N"}, GlobalSecondaryIndexes=[_gsi("gix", G)]),
     "ValidationException", INVALID + "Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [g], AttributeDefinitions: [p, c]"),
    ("definition nothing uses", lambda: _request(
        definitions={"c": "N", "g": "S", "p": "S", "x": "S"},
        GlobalSecondaryIndexes=[_gsi("gix", G)]),
     "ValidationException", INVALID + "Some AttributeDefinitions are not used. "
     "AttributeDefinitions: [c, g, p, x], keys used: [c, g, p]"),
    ("duplicate global index name", lambda: _request(
        GlobalSecondaryIndexes=[_gsi("gix", G), _gsi("gix", G, C)]),
     "ValidationException", INVALID + "Duplicate index name: gix"),
    ("global and local index of one name", lambda: _request(
        GlobalSecondaryIndexes=[_gsi("ix1", G)], LocalSecondaryIndexes=[_gsi("ix1", P, ("g", "RANGE"))]),
     "ValidationException", INVALID + "Duplicate index name: ix1"),
    ("local index with another hash key", lambda: _request(
        LocalSecondaryIndexes=[_gsi("lix", G, C)]),
     "ValidationException", INVALID + "Index KeySchema does not have the same leading hash key "
     "as table KeySchema for index: lix. index hash key: g, table hash key: p"),
    ("local index on a table without sort key", lambda: _request(
        range_key=False, LocalSecondaryIndexes=[_gsi("lix", P, ("g", "RANGE"))]),
     "ValidationException", INVALID + "Table KeySchema does not have a range key, which is "
     "required when specifying a LocalSecondaryIndex"),
    ("local index without range key", lambda: _request(
        definitions={"p": "S", "c": "N"}, LocalSecondaryIndexes=[_gsi("lix", P)]),
     "ValidationException", INVALID + "Index KeySchema does not have a range key for index: lix"),
    ("index name too short", lambda: _request(GlobalSecondaryIndexes=[_gsi("ab", G)]),
     "ValidationException", _constraint("ab", "globalSecondaryIndexes.1.member.indexName",
                                        "Member must have length greater than or equal to 3")),
    ("index name too long", lambda: _request(GlobalSecondaryIndexes=[_gsi("i" * 256, G)]),
     "ValidationException", _constraint("i" * 256, "globalSecondaryIndexes.1.member.indexName",
                                        "Member must have length less than or equal to 255")),
    ("index name with a space", lambda: _request(LocalSecondaryIndexes=[
        _gsi("my index", P, ("g", "RANGE"))]),
     "ValidationException", _constraint("my index", "localSecondaryIndexes.1.member.indexName",
                                        "Member must satisfy regular expression pattern: "
                                        "[a-zA-Z0-9_.-]+")),
    ("unknown projection type", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, projection={"ProjectionType": "SOME"})]),
     "ValidationException", _constraint(
         "SOME", "globalSecondaryIndexes.1.member.projection.projectionType",
         "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")),
    ("projection without type", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, projection={"NonKeyAttributes": ["x"]})]),
     "ValidationException", INVALID + "Unknown ProjectionType: null"),
    ("INCLUDE without attributes", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, projection={"ProjectionType": "INCLUDE"})]),
     "ValidationException", INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not "
     "specified"),
    ("KEYS_ONLY with attributes", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, projection={"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["x"]})]),
     "ValidationException", INVALID + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is "
     "specified"),
    ("ALL with attributes", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, projection={"ProjectionType": "ALL", "NonKeyAttributes": ["x"]})]),
     "ValidationException", INVALID + "ProjectionType is ALL, but NonKeyAttributes is "
     "specified"),
    ("duplicate projected attribute", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "x"]})]),
     "ValidationException", INVALID + "Duplicate attribute name in NonKeyAttributes: x"),
    ("more than 100 projected attributes", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix1", G, projection={"ProjectionType": "INCLUDE",
                                    "NonKeyAttributes": [f"a{i}" for i in range(60)]}),
        _gsi("gix2", G, C, projection={"ProjectionType": "INCLUDE",
                                       "NonKeyAttributes": [f"b{i}" for i in range(41)]})]),
     "ValidationException", INVALID + "Number of projected attributes in all indexes exceeds "
     "limit of 100, number of projected attributes:101"),
    ("throughput on an on-demand table's index", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, ProvisionedThroughput=PROVISIONED)]),
     "ValidationException", INVALID + "ProvisionedThroughput should not be specified for index: "
     "gix when BillingMode is PAY_PER_REQUEST"),
    ("no throughput on a provisioned table's index", lambda: {
        **_request(GlobalSecondaryIndexes=[_gsi("gix", G)]),
        "BillingMode": "PROVISIONED", "ProvisionedThroughput": PROVISIONED},
     "ValidationException", INVALID + "ProvisionedThroughput must be specified for index: gix"),
    ("zero index throughput", lambda: {
        **_request(GlobalSecondaryIndexes=[_gsi("gix", G, ProvisionedThroughput={
            "ReadCapacityUnits": 0, "WriteCapacityUnits": 1})]),
        "BillingMode": "PROVISIONED", "ProvisionedThroughput": PROVISIONED},
     "ValidationException", "1 validation error detected: Value '0' at "
     "'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have "
     "value greater than or equal to 1"),
    ("empty list of global indexes", lambda: _request(
        definitions={"p": "S", "c": "N"}, GlobalSecondaryIndexes=[]),
     "ValidationException", INVALID + "List of GlobalSecondaryIndexes is empty"),
    ("21 global indexes", lambda: _request(
        GlobalSecondaryIndexes=[_gsi(f"gix{i}", G) for i in range(21)]),
     "ValidationException", INVALID + "GlobalSecondaryIndex count exceeds the per-table limit "
     "of 20"),
    ("6 local indexes", lambda: _request(
        LocalSecondaryIndexes=[_gsi(f"lix{i}", P, ("g", "RANGE")) for i in range(6)]),
     "ValidationException", INVALID + "LocalSecondaryIndexes exceeds the maximum number of "
     "indexes: 5"),
    ("range key first", lambda: _request(GlobalSecondaryIndexes=[_gsi("gix", C, G)]),
     "ValidationException", "Invalid KeySchema: The first KeySchemaElement is not a HASH key "
     "type"),
    ("hash key after range key", lambda: _request(
        definitions={"p": "S", "c": "N", "g": "S", "h": "S"},
        GlobalSecondaryIndexes=[_gsi("gix", G, C, ("h", "HASH"))]),
     "ValidationException", "Invalid KeySchema: HASH key attributes must come before RANGE key "
     "attributes"),
    ("same attribute as hash and range", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", G, ("g", "RANGE"))]),
     "ValidationException", "Both the Hash Key and the Range Key element in the "
     "KeySchema have the same name"),
    ("five hash attributes", lambda: _request(
        definitions={"p": "S", "c": "N", **{f"h{i}": "S" for i in range(5)}},
        GlobalSecondaryIndexes=[_gsi("gix", *[(f"h{i}", "HASH") for i in range(5)])]),
     "ValidationException", INVALID + "An index key may have at most 4 HASH and 4 RANGE "
     "attributes"),
    ("unknown key type", lambda: _request(GlobalSecondaryIndexes=[
        _gsi("gix", ("g", "PRIMARY"))]),
     "ValidationException", _constraint(
         "PRIMARY", "globalSecondaryIndexes.1.member.keySchema.1.member.keyType",
         "Member must satisfy enum value set: [HASH, RANGE]")),
    ("local index with two hash attributes", lambda: _request(
        definitions={"p": "S", "c": "N", "g": "S", "h": "S"},
        LocalSecondaryIndexes=[_gsi("lix", P, ("h", "HASH"))]),
     "ValidationException", "Invalid KeySchema: The second KeySchemaElement is not a RANGE key "
     "type"),
]


@pytest.mark.parametrize(("request_of", "code", "message"),
                         [pytest.param(r, c, m, id=i) for i, r, c, m in CASES])
def test_create_table_refusal(raw_dynamodb: Any, request_of: Callable[[], dict[str, Any]],
                              code: str, message: str) -> None:
    name = unique_table_name("iv")
    with pytest.raises(ClientError) as caught:
        raw_dynamodb.create_table(TableName=name, **request_of())
    assert error_of(caught) == (code, message)
    with pytest.raises(ClientError) as missing:
        raw_dynamodb.describe_table(TableName=name)
    assert error_of(missing)[0] == "ResourceNotFoundException"


def test_index_key_of_another_type_in_an_item(dynamodb: Any) -> None:
    """Index keys are typed like table keys: an item holding a Number where the index key is a
    String, or an empty String, is refused, and stores nothing."""
    name = unique_table_name("iv")
    dynamodb.create_table(TableName=name, **_request(GlobalSecondaryIndexes=[_gsi("gix", G)]))
    try:
        item = {"p": {"S": "a"}, "c": {"N": "1"}}
        for value, expected in (
                ({"N": "3"}, INVALID + "Type mismatch for Index Key g Expected: S Actual: N "
                                       "IndexName: gix"),
                ({"S": ""}, "One or more parameter values are not valid. A value "
                                      "specified for a secondary index key is not supported. "
                                      "The AttributeValue for a key attribute cannot contain "
                                      "an empty string value. IndexName: gix, IndexKey: g")):
            with pytest.raises(ClientError) as caught:
                dynamodb.put_item(TableName=name, Item={**item, "g": value})
            assert error_of(caught) == ("ValidationException", expected)
        assert "Item" not in dynamodb.get_item(TableName=name, Key=item)
    finally:
        dynamodb.delete_table(TableName=name)
