"""PutItem, GetItem, DeleteItem through boto3, on every backend."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, new_key

ALL_TYPES_ITEM = {
    "s": {"S": "hello ☃"},
    "n": {"N": "-12.5"},
    "b": {"B": base64.b64encode(b"\x00\xffbin")},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "null": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"x", b"y"]},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}]},
    "m": {"M": {"inner": {"M": {"deep": {"S": "y"}}}, "n": {"N": "0"}}},
    "empty": {"S": ""},
}



def normalise(item: dict[str, Any]) -> dict[str, Any]:
    """Sets come back in any order."""
    out = {}
    for name, value in item.items():
        (kind, inner), = value.items()
        out[name] = {kind: sorted(inner)} if kind in ("SS", "NS", "BS") else value
    return out


def test_put_get_every_type(dynamodb: Any, table_hash: str) -> None:
    key = new_key()
    item = {"p": {"S": key}, **ALL_TYPES_ITEM}
    assert dynamodb.put_item(TableName=table_hash, Item=item)["ResponseMetadata"]
    got = dynamodb.get_item(TableName=table_hash, Key={"p": {"S": key}})["Item"]
    expected = {name: value for name, value in item.items()}
    expected["b"] = {"B": base64.b64encode(b"\x00\xffbin")}
    expected["bs"] = {"BS": [b"x", b"y"]}
    assert normalise(got) == normalise(expected)


def test_get_missing_item_has_no_item(dynamodb: Any, table_hash: str) -> None:
    response = dynamodb.get_item(TableName=table_hash, Key={"p": {"S": new_key()}})
    assert "Item" not in response


def test_put_replaces_whole_item(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}, "b": {"N": "2"}})
    dynamodb.put_item(TableName=table_hash, Item={**key, "c": {"S": "3"}})
    assert dynamodb.get_item(TableName=table_hash, Key=key, ConsistentRead=True)["Item"] == {
        **key, "c": {"S": "3"}}


def test_item_with_only_key_exists(dynamodb: Any, table_hash_range: str) -> None:
    key = {"p": {"S": new_key()}, "c": {"N": "7"}}
    dynamodb.put_item(TableName=table_hash_range, Item=key)
    assert dynamodb.get_item(TableName=table_hash_range, Key=key)["Item"] == key


@pytest.mark.parametrize("given, stored", [
    ("1.50", "1.5"), ("007", "7"), ("1e3", "1000"), ("-0", "0"), ("0.000", "0"),
    ("1E-130", "0." + "0" * 129 + "1"), ("9.9999999999999999999999999999999999999E+125",
                                         "99999999999999999999999999999999999999" + "0" * 88),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    (".5", "0.5"), ("-1.23e-2", "-0.0123"),
])
def test_numbers_are_stored_canonically(dynamodb: Any, table_hash_range: str, given: str,
                                        stored: str) -> None:
    key = {"p": {"S": new_key()}, "c": {"N": given}}
    dynamodb.put_item(TableName=table_hash_range, Item={**key, "v": {"N": given}})
    got = dynamodb.get_item(TableName=table_hash_range, Key=key)["Item"]
    assert got["v"] == {"N": stored}
    assert got["c"] == {"N": stored}


def test_number_sort_key_matches_numerically(dynamodb: Any, table_hash_range: str) -> None:
    p = new_key()
    dynamodb.put_item(TableName=table_hash_range, Item={"p": {"S": p}, "c": {"N": "2.50"},
                                                        "v": {"S": "x"}})
    got = dynamodb.get_item(TableName=table_hash_range, Key={"p": {"S": p}, "c": {"N": "2.5"}})
    assert got["Item"]["v"] == {"S": "x"}


def test_delete_item(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"S": "x"}})
    dynamodb.delete_item(TableName=table_hash, Key=key)
    assert "Item" not in dynamodb.get_item(TableName=table_hash, Key=key, ConsistentRead=True)
    dynamodb.delete_item(TableName=table_hash, Key=key)  # deleting an absent item is fine


def test_return_values_all_old(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    first = dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}},
                              ReturnValues="ALL_OLD")
    assert "Attributes" not in first
    second = dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "2"}},
                               ReturnValues="ALL_OLD")
    assert second["Attributes"] == {**key, "a": {"N": "1"}}
    deleted = dynamodb.delete_item(TableName=table_hash, Key=key, ReturnValues="ALL_OLD")
    assert deleted["Attributes"] == {**key, "a": {"N": "2"}}


@pytest.mark.parametrize("returns", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_put_rejects_other_return_values(dynamodb: Any, table_hash: str, returns: str) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.put_item(TableName=table_hash, Item={"p": {"S": new_key()}},
                          ReturnValues=returns)
    assert error_of(exc) == ("ValidationException", "Return values set to invalid value")


def test_attributes_to_get(dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}, "b": {"N": "2"}})
    got = dynamodb.get_item(TableName=table_hash, Key=key, AttributesToGet=["a", "zz"])
    assert got["Item"] == {"a": {"N": "1"}}


def test_missing_table(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        dynamodb.get_item(TableName="no_such_table_here", Key={"p": {"S": "x"}})
    assert error_of(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        dynamodb.put_item(TableName="no_such_table_here", Item={"p": {"S": "x"}})
    assert error_of(exc)[0] == "ResourceNotFoundException"


INVALID = "One or more parameter values were invalid: "


@pytest.mark.parametrize("item, message", [
    ({"p": {"N": "1"}}, INVALID + "Type mismatch for key p expected: S actual: N"),
    ({"q": {"S": "x"}}, INVALID + "Missing the key p in the item"),
    ({"p": {"S": ""}}, "One or more parameter values are not valid. The AttributeValue for a key "
                       "attribute cannot contain an empty string value. Key: p"),
    ({"p": {"S": "x"}, "n": {"N": "1234567890123456789012345678901234567890"}},
     "Attempting to store more than 38 significant digits in a Number"),
    ({"p": {"S": "x"}, "n": {"N": "1E+126"}},
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ({"p": {"S": "x"}, "n": {"N": "1E-131"}},
     "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ({"p": {"S": "x"}, "n": {"N": "abc"}},
     "The parameter cannot be converted to a numeric value: abc"),
    ({"p": {"S": "x"}, "s": {"SS": []}},
     INVALID + "An string set  may not be empty"),
    ({"p": {"S": "x"}, "s": {"NS": ["1", "1.0"]}},
     INVALID + "Input collection [1, 1.0] contains duplicates."),
    ({"p": {"S": "x"}, "s": {"SS": ["a", "a"]}},
     INVALID + "Input collection [a, a] contains duplicates."),
    ({"p": {"S": "x"}, "z": {"NULL": False}},
     INVALID + "Null attribute value types must have the value of true"),
    ({"p": {"S": "x"}, "z": {}},
     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"p": {"S": "x"}, "z": {"S": "a", "N": "1"}},
     "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
     "supported datatypes"),
])
def test_put_item_validation(raw_dynamodb: Any, table_hash: str, item: dict[str, Any],
                             message: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.put_item(TableName=table_hash, Item=item)
    assert error_of(exc) == ("ValidationException", message)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_failed_put_leaves_item_intact(raw_dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    raw_dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1"}})
    with pytest.raises(ClientError):
        raw_dynamodb.put_item(TableName=table_hash, Item={**key, "a": {"N": "1e999"}})
    assert raw_dynamodb.get_item(TableName=table_hash, Key=key)["Item"] == {**key, "a": {"N": "1"}}


@pytest.mark.parametrize("key", [
    {"p": {"N": "1"}},
    {"p": {"S": "x"}, "extra": {"S": "y"}},
    {},
])
def test_get_item_key_must_match_schema(raw_dynamodb: Any, table_hash: str,
                                        key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.get_item(TableName=table_hash, Key=key)
    assert error_of(exc) == ("ValidationException",
                             "The provided key element does not match the schema")


def test_get_item_sort_key_required(raw_dynamodb: Any, table_hash_range: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.get_item(TableName=table_hash_range, Key={"p": {"S": "x"}})
    assert error_of(exc) == ("ValidationException",
                             "The provided key element does not match the schema")


def test_binary_keys(dynamodb: Any) -> None:
    from conftest import create_table

    name = create_table(dynamodb, [("p", "HASH", "B"), ("c", "RANGE", "B")])
    try:
        key = {"p": {"B": b"\x00\x01"}, "c": {"B": b"\xff"}}
        dynamodb.put_item(TableName=name, Item={**key, "v": {"S": "bin"}})
        got = dynamodb.get_item(TableName=name, Key=key)["Item"]
        assert got == {"p": {"B": b"\x00\x01"}, "c": {"B": b"\xff"}, "v": {"S": "bin"}}
    finally:
        dynamodb.delete_table(TableName=name)


def test_item_size_limit(raw_dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    # 400 KB counts attribute names and values: "v" + 409,599 bytes is exactly at the limit.
    exact = 400 * 1024 - len(key["p"]["S"]) - 1 - 1
    raw_dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"S": "x" * exact}})
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.put_item(TableName=table_hash, Item={**key, "v": {"S": "x" * (exact + 1)}})
    assert error_of(exc) == ("ValidationException",
                             "Item size has exceeded the maximum allowed size")
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET w = :w",
                                 ExpressionAttributeValues={":w": {"S": "yy"}},
                                 ReturnValues="ALL_NEW")
    assert error_of(exc) == ("ValidationException",
                             "Item size to update has exceeded the maximum allowed size")


def test_attribute_name_limits(raw_dynamodb: Any, table_hash: str) -> None:
    key = {"p": {"S": new_key()}}
    longest = "a" * 65535
    raw_dynamodb.put_item(TableName=table_hash, Item={**key, longest: {"N": "1"}})
    assert longest in raw_dynamodb.get_item(TableName=table_hash, Key=key)["Item"]
    for bad in ("a" * 65536, ""):
        with pytest.raises(ClientError) as exc:
            raw_dynamodb.put_item(TableName=table_hash, Item={**key, bad: {"N": "1"}})
        code, message = error_of(exc)
        assert code == "ValidationException"
        assert "attribute name" in message.lower()


@pytest.mark.parametrize("capacity", ["NONE", "TOTAL"])
def test_blind_update_over_the_item_size_is_refused_before_writing(
        dynamodb: Any, table_hash: str, capacity: str) -> None:
    # SET with no condition and no read: the update alone is over 400 KB, so nothing may be
    # stored, whether or not consumed capacity is asked for.
    key = {"p": {"S": new_key()}}
    with pytest.raises(ClientError) as error:
        dynamodb.update_item(TableName=table_hash, Key=key, UpdateExpression="SET a = :v",
                             ExpressionAttributeValues={":v": {"S": "x" * 500_000}},
                             ReturnConsumedCapacity=capacity)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "Item" not in dynamodb.get_item(TableName=table_hash, Key=key, ConsistentRead=True)
