"""Legacy parameters converted to the expression AST, and their validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alternator.errors import ValidationException
from alternator.expressions import (
    apply_update,
    attribute_updates,
    attributes_to_get,
    check_parameter_styles,
    evaluate,
    expected_condition,
    filter_condition,
    key_conditions,
    project,
)
from alternator.expressions.ast import SortKeyCondition


def error(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


N1, N2, N5, SA, SB = {"N": "1"}, {"N": "2"}, {"N": "5"}, {"S": "a"}, {"S": "b"}
ITEM: dict[str, Any] = {"a": N2, "s": {"S": "hello"}, "ss": {"SS": ["x", "y"]},
                        "l": {"L": [N1]}}


@pytest.mark.parametrize(("expected", "result"), [
    ({"a": {"Value": N2}}, True),
    ({"a": {"Value": N1}}, False),
    ({"a": {"Value": N2, "Exists": True}}, True),
    ({"zz": {"Exists": False}}, True),
    ({"a": {"Exists": False}}, False),
    ({"a": {"ComparisonOperator": "EQ", "AttributeValueList": [N2]}}, True),
    ({"a": {"ComparisonOperator": "EQ", "Value": N2}}, True),
    ({"a": {"ComparisonOperator": "NE", "AttributeValueList": [N2]}}, False),
    ({"zz": {"ComparisonOperator": "NE", "AttributeValueList": [N2]}}, True),
    ({"a": {"ComparisonOperator": "LT", "AttributeValueList": [N5]}}, True),
    ({"a": {"ComparisonOperator": "LE", "AttributeValueList": [N2]}}, True),
    ({"a": {"ComparisonOperator": "GT", "AttributeValueList": [N2]}}, False),
    ({"a": {"ComparisonOperator": "GE", "AttributeValueList": [N2]}}, True),
    ({"a": {"ComparisonOperator": "NOT_NULL"}}, True),
    ({"zz": {"ComparisonOperator": "NOT_NULL"}}, False),
    ({"zz": {"ComparisonOperator": "NULL"}}, True),
    ({"a": {"ComparisonOperator": "NULL"}}, False),
    ({"s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "ell"}]}}, True),
    ({"ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "x"}]}}, True),
    ({"ss": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "x"}]}}, False),
    ({"ss": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "q"}]}}, True),
    ({"zz": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "q"}]}}, False),
    ({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]}}, True),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [N1, N2]}}, True),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [N1, N5]}}, False),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N1, N5]}}, True),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N5, N5]}}, False),
    ({"l": {"ComparisonOperator": "EQ", "AttributeValueList": [{"L": [N1]}]}}, True),
    ({"a": {"Value": N2}, "s": {"Value": SA}}, False),
])
def test_expected(expected: dict[str, Any], result: bool) -> None:
    condition = expected_condition(expected)
    assert condition is not None
    assert evaluate(condition, ITEM) is result


def test_conditional_operator() -> None:
    spec = {"a": {"Value": N2}, "s": {"Value": SA}}
    assert evaluate(expected_condition(spec, "OR"), ITEM) is True  # type: ignore[arg-type]
    assert evaluate(expected_condition(spec, "AND"), ITEM) is False  # type: ignore[arg-type]
    assert error(expected_condition, spec, "XOR") == (
        "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy "
        "constraint: Member must satisfy enum value set: [AND, OR]"
    )
    assert expected_condition({}) is None
    assert expected_condition(None) is None


P = "One or more parameter values were invalid: "


@pytest.mark.parametrize(("expected", "message"), [
    ({"a": {"Value": N1, "AttributeValueList": [N1]}},
     P + "Value and AttributeValueList cannot be used together for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ", "Exists": True, "Value": N1}},
     P + "Exists and ComparisonOperator cannot be used together for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ"}},
     P + "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"),
    ({"a": {"AttributeValueList": [N1]}},
     P + "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
    ({"a": {}}, P + "Value must be provided when Exists is null for Attribute: a"),
    ({"a": {"Exists": True}}, P + "Value must be provided when Exists is true for Attribute: a"),
    ({"a": {"Exists": False, "Value": N1}},
     P + "Value cannot be used when Exists is false for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ", "AttributeValueList": [N1, N2]}},
     P + "Invalid number of argument(s) for the EQ ComparisonOperator"),
    ({"a": {"ComparisonOperator": "NULL", "AttributeValueList": [N1]}},
     P + "Invalid number of argument(s) for the NULL ComparisonOperator"),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N1]}},
     P + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": []}},
     P + "Invalid number of argument(s) for the IN ComparisonOperator"),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [N1, SA]}},
     P + "AttributeValues inside AttributeValueList must be of same type"),
    ({"a": {"ComparisonOperator": "LT", "AttributeValueList": [{"SS": ["x"]}]}},
     P + "ComparisonOperator LT is not valid for SS AttributeValue type"),
    ({"a": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [N1]}},
     P + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
    ({"a": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"L": []}]}},
     P + "ComparisonOperator CONTAINS is not valid for L AttributeValue type"),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N5, N1]}},
     "The BETWEEN condition was provided a range where the lower bound is greater than the "
     "upper bound"),
    ({"a": {"ComparisonOperator": "XX", "AttributeValueList": [N1]}},
     "1 validation error detected: Value 'XX' at 'expected.a.member.comparisonOperator' failed "
     "to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
     "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"),
    ({"a": {"Value": {"N": "x"}}}, "The parameter cannot be converted to a numeric value: x"),
])
def test_expected_errors(expected: dict[str, Any], message: str) -> None:
    assert error(expected_condition, expected) == message


def test_filters() -> None:
    spec = {"a": {"ComparisonOperator": "GT", "AttributeValueList": [N1]},
            "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]}}
    assert evaluate(filter_condition(spec, "OR", "ScanFilter"), ITEM)  # type: ignore[arg-type]
    assert not evaluate(filter_condition(spec, None, "ScanFilter"), ITEM)  # type: ignore[arg-type]
    assert filter_condition(None) is None
    assert error(filter_condition, {"a": {"AttributeValueList": [N1]}}, None, "ScanFilter") == (
        "1 validation error detected: Value null at 'scanFilter.a.member.comparisonOperator' "
        "failed to satisfy constraint: Member must not be null"
    )
    assert error(filter_condition, {"a": {"ComparisonOperator": "EQ"}}) == (
        P + "Invalid number of argument(s) for the EQ ComparisonOperator"
    )


# --- KeyConditions ----------------------------------------------------------------------------


def test_key_conditions() -> None:
    result = key_conditions(
        {"p": {"ComparisonOperator": "EQ", "AttributeValueList": [SA]},
         "c": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N1, N5]}},
        "p", "c",
    )
    assert result.partition_value == SA
    assert result.sort == SortKeyCondition("BETWEEN", (N1, N5))
    only = key_conditions({"p": {"ComparisonOperator": "EQ", "AttributeValueList": [SA]}},
                          "p", "c")
    assert only.sort is None
    begins = key_conditions(
        {"p": {"ComparisonOperator": "EQ", "AttributeValueList": [SA]},
         "c": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [SB]}}, "p", "c")
    assert begins.sort == SortKeyCondition("begins_with", (SB,))


@pytest.mark.parametrize(("conditions", "message"), [
    ({"c": {"ComparisonOperator": "EQ", "AttributeValueList": [N1]}},
     "Query condition missed key schema element: p"),
    ({"p": {"ComparisonOperator": "GT", "AttributeValueList": [SA]}},
     "Query key condition not supported"),
    ({"p": {"ComparisonOperator": "EQ", "AttributeValueList": [SA]},
      "c": {"ComparisonOperator": "NE", "AttributeValueList": [N1]}},
     "Attempted conditional constraint is not an indexable operation"),
    ({"p": {"ComparisonOperator": "EQ", "AttributeValueList": [SA]},
      "x": {"ComparisonOperator": "EQ", "AttributeValueList": [N1]}},
     "Query condition missed key schema element: c"),
    ({}, P + "Conditions can be of length 1 or 2 only"),
    ({"p": {"ComparisonOperator": "EQ", "AttributeValueList": [SA, SB]}},
     P + "Invalid number of argument(s) for the EQ ComparisonOperator"),
])
def test_key_conditions_errors(conditions: dict[str, Any], message: str) -> None:
    assert error(key_conditions, conditions, "p", "c") == message


# --- AttributeUpdates and AttributesToGet -----------------------------------------------------


@pytest.mark.parametrize(("updates", "result"), [
    ({"a": {"Value": N5}}, {"a": N5}),
    ({"a": {"Action": "PUT", "Value": SA}}, {"a": SA}),
    ({"a": {"Action": "DELETE"}}, {}),
    ({"a": {"Action": "ADD", "Value": N5}}, {"a": {"N": "7"}}),
    ({"n": {"Action": "ADD", "Value": N5}}, {"n": N5}),
    ({"ss": {"Action": "ADD", "Value": {"SS": ["z"]}}}, {"ss": {"SS": ["x", "y", "z"]}}),
    ({"ss": {"Action": "DELETE", "Value": {"SS": ["x"]}}}, {"ss": {"SS": ["y"]}}),
    ({"l": {"Action": "ADD", "Value": {"L": [N2]}}}, {"l": {"L": [N1, N2]}}),
    ({"nl": {"Action": "ADD", "Value": {"L": [N2]}}}, {"nl": {"L": [N2]}}),
])
def test_attribute_updates(updates: dict[str, Any], result: dict[str, Any]) -> None:
    base = {"a": N2, "ss": {"SS": ["x", "y"]}, "l": {"L": [N1]}}
    out = apply_update(attribute_updates(updates), base)
    touched = {k: out[k] for k in updates if k in out}
    assert touched == result


@pytest.mark.parametrize(("updates", "message"), [
    ({"a": {"Action": "PUT"}}, P + "Only DELETE action is allowed when no attribute value is "
     "specified"),
    ({"a": {"Action": "ADD"}}, P + "Only DELETE action is allowed when no attribute value is "
     "specified"),
    ({"a": {"Action": "ADD", "Value": SA}}, P + "ADD action is not supported for the type S"),
    ({"a": {"Action": "DELETE", "Value": N1}},
     P + "DELETE action with value is not supported for the type N"),
    ({"a": {"Action": "MERGE", "Value": N1}},
     "1 validation error detected: Value 'MERGE' at 'attributeUpdates.a.member.action' failed "
     "to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"),
])
def test_attribute_updates_errors(updates: dict[str, Any], message: str) -> None:
    assert error(attribute_updates, updates) == message


def test_attributes_to_get() -> None:
    assert project(attributes_to_get(["a", "zz", "s"]), ITEM) == {"a": N2, "s": ITEM["s"]}
    # reserved words are fine here: there is no expression
    attributes_to_get(["name", "size"])
    assert error(attributes_to_get, ["a", "a"]) == (
        P + "Duplicate value in attribute name: a"
    )


# --- mixing the two styles --------------------------------------------------------------------


@pytest.mark.parametrize(("request_", "message"), [
    ({"Expected": {}, "ConditionExpression": "a = :v"},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"),
    ({"AttributeUpdates": {}, "Expected": {}, "UpdateExpression": "SET a = :v",
      "ConditionExpression": "a = :v"},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: "
     "{UpdateExpression, ConditionExpression}"),
    ({"AttributesToGet": ["a"], "ProjectionExpression": "a"},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {AttributesToGet} Expression parameters: "
     "{ProjectionExpression}"),
    ({"KeyConditions": {}, "KeyConditionExpression": "p = :v"},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {KeyConditions} Expression parameters: "
     "{KeyConditionExpression}"),
    ({"ExpressionAttributeNames": {"#a": "a"}},
     "ExpressionAttributeNames can only be specified when using expressions"),
    ({"ExpressionAttributeValues": {":a": N1}, "ProjectionExpression": "a"},
     "ExpressionAttributeValues can only be specified when using expressions: "
     "UpdateExpression and ConditionExpression and KeyConditionExpression and FilterExpression "
     "are null"),
])
def test_parameter_styles(request_: dict[str, Any], message: str) -> None:
    assert error(check_parameter_styles, request_) == message


def test_parameter_styles_allowed() -> None:
    check_parameter_styles({"Expected": {}, "AttributeUpdates": {}})
    check_parameter_styles({"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {}})
    # KeyConditions may go with a FilterExpression
    check_parameter_styles({"KeyConditions": {}, "FilterExpression": "a = :v"})
    assert error(check_parameter_styles, {"ExpressionAttributeValues": {":a": N1}},
                 ("ConditionExpression",), ("Expected",)) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "ConditionExpression is null"
    )
