"""Binding: names/values maps, undefined and unused references, value-dependent checks, keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alternator.errors import ValidationException
from alternator.expressions import Binder, check_filter_keys
from alternator.expressions.ast import (
    Call,
    Compare,
    KeyCondition,
    Path,
    SortKeyCondition,
    Value,
)


def error(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


N1, N5, S = {"N": "1"}, {"N": "5"}, {"S": "x"}


# --- the maps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("names", "values", "message"), [
    ({}, None, "ExpressionAttributeNames must not be empty"),
    (None, {}, "ExpressionAttributeValues must not be empty"),
    ({"x": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "x"'),
    ({"#": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#"'),
    ({"#a-b": "a"}, None,
     'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'),
    (None, {"v": N1}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
    (None, {":v.w": N1},
     'ExpressionAttributeValues contains invalid key: Syntax error; key: ":v.w"'),
    (None, {":v": {"N": "x"}}, "ExpressionAttributeValues contains invalid value: The parameter "
     "cannot be converted to a numeric value: x for key :v"),
    (None, {":v": {}}, "ExpressionAttributeValues contains invalid value: Supplied "
     "AttributeValue is empty, must contain exactly one of the supported datatypes for key :v"),
    (None, {":v": {"SS": ["a", "a"]}}, "ExpressionAttributeValues contains invalid value: One or "
     "more parameter values were invalid: Input collection [a, a] contains duplicates. for key :v"),
    ({"#n": ""}, None,
     "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n"),
])
def test_invalid_maps(names: Any, values: Any, message: str) -> None:
    assert error(Binder, names, values) == message


def test_values_are_normalized() -> None:
    b = Binder(None, {":v": {"N": "01.50"}})
    assert b.condition("a = :v") == Compare("=", Path(("a",)), Value({"N": "1.5"}, ":v"))


# --- undefined and unused ---------------------------------------------------------------------


def test_undefined_value() -> None:
    assert error(Binder(None, None).condition, "a = :x") == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :x"
    )


def test_undefined_name() -> None:
    assert error(Binder(None, {":v": N1}).update, "SET #x = :v") == (
        "Invalid UpdateExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #x"
    )


@pytest.mark.parametrize(("method", "text", "kind"), [
    ("condition", "a = :nope", "ConditionExpression"),
    ("filter", "a = :nope", "FilterExpression"),
    ("update", "SET a = :nope", "UpdateExpression"),
    ("update", "ADD a :nope", "UpdateExpression"),
    ("update", "SET a = if_not_exists(b, :nope)", "UpdateExpression"),
    ("condition", "a IN (:v, :nope)", "ConditionExpression"),
    ("condition", "size(a) BETWEEN :v AND :nope", "ConditionExpression"),
])
def test_undefined_value_in_each_kind(method: str, text: str, kind: str) -> None:
    binder = Binder(None, {":v": N1})
    assert error(getattr(binder, method), text) == (
        f"Invalid {kind}: An expression attribute value used in expression is not defined; "
        "attribute value: :nope"
    )


def test_undefined_name_in_projection() -> None:
    assert error(Binder({"#a": "a"}, None).projection, "#a, #b.c") == (
        "Invalid ProjectionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #b"
    )


def test_unused_value_and_name() -> None:
    b = Binder({"#n": "a", "#m": "b"}, {":v": N1, ":w": N5, ":u": S})
    b.condition("#n = :v")
    with pytest.raises(ValidationException) as info:
        b.finish()
    assert info.value.message == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#m}"
    )
    b.update("SET #m = :w")
    assert error(b.finish) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}"
    )


def test_unused_lists_every_key() -> None:
    b = Binder(None, {":a": N1, ":b": N1, ":c": N1})
    b.condition("x = :b")
    assert error(b.finish) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :c}"
    )


def test_usage_is_shared_across_expressions_of_a_request() -> None:
    b = Binder({"#p": "p"}, {":v": N1, ":w": N5})
    b.update("SET a = :v")
    b.condition("attribute_exists(#p) AND b = :w")
    b.finish()


def test_failed_expression_marks_nothing_used() -> None:
    b = Binder(None, {":v": N1})
    with pytest.raises(ValidationException):
        b.condition("a = :v AND b = :undefined")
    assert "unused" in error(b.finish)


def test_reserved_word_through_name_is_fine() -> None:
    b = Binder({"#name": "name"}, {":v": S})
    assert b.condition("#name = :v") == Compare("=", Path(("name",)), Value(S, ":v"))
    b.finish()


# --- value-dependent condition checks ---------------------------------------------------------


@pytest.mark.parametrize(("text", "values", "message"), [
    ("a BETWEEN :hi AND :lo", {":hi": N5, ":lo": N1},
     "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
     "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"),
    ("a BETWEEN :b AND :a", {":a": {"S": "a"}, ":b": {"S": "b"}},
     "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
     "lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"),
    ("a BETWEEN :n AND :s", {":n": N1, ":s": S},
     "The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
     "operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}"),
    ("attribute_type(a, :t)", {":t": {"S": "X"}},
     "Invalid attribute type name found; type: X, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}"),
    ("attribute_type(a, :t)", {":t": N1},
     "Incorrect operand type for operator or function; operator or function: attribute_type, "
     "operand type: N"),
    ("begins_with(a, :n)", {":n": N1},
     "Incorrect operand type for operator or function; operator or function: begins_with, "
     "operand type: N"),
    ("begins_with(a, :n)", {":n": {"SS": ["x"]}},
     "Incorrect operand type for operator or function; operator or function: begins_with, "
     "operand type: SS"),
    ("size(:n) = :n", {":n": N1},
     "Incorrect operand type for operator or function; operator or function: size, "
     "operand type: N"),
    ("a = a", {":v": N1},
     "The first operand must be distinct from the remaining operands for this operator or "
     "function; operator: =, first operand: [a]"),
    ("begins_with(a.b[1], a.b[1])", {":v": N1},
     "The first operand must be distinct from the remaining operands for this operator or "
     "function; operator: begins_with, first operand: [a, b, [1]]"),
])
def test_condition_value_checks(text: str, values: dict[str, Any], message: str) -> None:
    b = Binder(None, values)
    assert error(b.condition, text) == "Invalid ConditionExpression: " + message
    assert error(Binder(None, values).filter, text) == "Invalid FilterExpression: " + message


@pytest.mark.parametrize("type_name", ["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"])
def test_attribute_type_names(type_name: str) -> None:
    Binder(None, {":t": {"S": type_name}}).condition("attribute_type(a, :t)")


def test_between_equal_bounds_is_fine() -> None:
    Binder(None, {":a": N1, ":b": {"N": "1.0"}}).condition("x BETWEEN :a AND :b")


# --- value-dependent update checks ------------------------------------------------------------


@pytest.mark.parametrize(("text", "values", "message"), [
    ("SET a = b + :s", {":s": S}, "Incorrect operand type for operator or function; operator "
     "or function: +, operand type: S"),
    ("SET a = :l - b", {":l": {"L": []}}, "Incorrect operand type for operator or function; "
     "operator or function: -, operand type: L"),
    ("SET a = list_append(a, :n)", {":n": N1}, "Incorrect operand type for operator or "
     "function; operator or function: list_append, operand type: N"),
    ("SET a = if_not_exists(a, :v) + :s", {":v": N1, ":s": S},
     "Incorrect operand type for operator or function; operator or function: +, operand "
     "type: S"),
    ("ADD a :s", {":s": S}, "Incorrect operand type for operator or function; operator: ADD, "
     "operand type: STRING"),
    ("ADD a :l", {":l": {"L": []}}, "Incorrect operand type for operator or function; "
     "operator: ADD, operand type: LIST"),
    ("ADD a :m", {":m": {"M": {}}}, "Incorrect operand type for operator or function; "
     "operator: ADD, operand type: MAP"),
    ("DELETE a :n", {":n": N1}, "Incorrect operand type for operator or function; operator: "
     "DELETE, operand type: NUMBER"),
    ("DELETE a :b", {":b": {"BOOL": True}}, "Incorrect operand type for operator or function; "
     "operator: DELETE, operand type: BOOLEAN"),
    ("SET a.b = :n, a = :n", {":n": N1}, "Two document paths overlap with each other; must "
     "remove or rewrite one of these paths; path one: [a, b], path two: [a]"),
    ("SET a = :n, a.b = :n", {":n": N1}, "Two document paths overlap with each other; must "
     "remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
    ("SET a = :n REMOVE a", {":n": N1}, "Two document paths overlap with each other; must "
     "remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ("SET #x = :n REMOVE x", {":n": N1}, "Two document paths overlap with each other; must "
     "remove or rewrite one of these paths; path one: [x], path two: [x]"),
    ("SET a[1] = :n ADD a[1].b :n", {":n": N1}, "Two document paths overlap with each other; "
     "must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, [1], b]"),
    ("SET a.b = :n, a[1] = :n", {":n": N1}, "Two document paths conflict with each other; "
     "must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"),
])
def test_update_value_checks(text: str, values: dict[str, Any], message: str) -> None:
    names = {"#x": "x"} if "#x" in text else None
    assert error(Binder(names, values).update, text) == "Invalid UpdateExpression: " + message


@pytest.mark.parametrize("text", [
    "SET a.b = :n, a.c = :n",
    "SET a[1] = :n, a[2] = :n",
    "SET a.b.c = :n REMOVE a.b.d",
    "ADD s :ss DELETE t :ss",
    "SET a = :n, b = :n",
])
def test_update_paths_that_do_not_overlap(text: str) -> None:
    values: dict[str, Any] = {":n": N1}
    if ":ss" in text:
        values = {":ss": {"SS": ["a"]}}
    Binder(None, values).update(text)


def test_projection_overlap_and_conflict() -> None:
    assert error(Binder(None, None).projection, "a, a.b") == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [a], path two: [a, b]"
    )
    assert error(Binder(None, None).projection, "a[0], a.b") == (
        "Invalid ProjectionExpression: Two document paths conflict with each other; must "
        "remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    )
    assert error(Binder({"#a": "a"}, None).projection, "a, #a") == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [a], path two: [a]"
    )


# --- key conditions ---------------------------------------------------------------------------


def key(text: str, values: dict[str, Any], sort_key: str | None = "s",
        names: dict[str, str] | None = None, **kw: Any) -> KeyCondition:
    return Binder(names, values).key_condition(text, "p", sort_key, **kw)


@pytest.mark.parametrize(("text", "op", "bounds"), [
    ("p = :p", None, ()),
    ("p = :p AND s = :a", "=", ({"N": "1"},)),
    ("p = :p AND s < :a", "<", ({"N": "1"},)),
    ("p = :p AND s <= :a", "<=", ({"N": "1"},)),
    ("p = :p AND s > :a", ">", ({"N": "1"},)),
    ("p = :p AND s >= :a", ">=", ({"N": "1"},)),
    ("p = :p AND :a < s", ">", ({"N": "1"},)),
    ("p = :p AND :a >= s", "<=", ({"N": "1"},)),
    ("s = :a AND p = :p", "=", ({"N": "1"},)),
    (":p = p AND :a = s", "=", ({"N": "1"},)),
    ("p = :p AND s BETWEEN :a AND :b", "BETWEEN", ({"N": "1"}, {"N": "5"})),
    ("p = :p AnD s BeTwEeN :a aNd :b", "BETWEEN", ({"N": "1"}, {"N": "5"})),
    ("((s = :a) AND (p = :p))", "=", ({"N": "1"},)),
    ("p = :p AND begins_with(s, :str)", "begins_with", ({"S": "x"},)),
    ("#p = :p AND #s = :a", "=", ({"N": "1"},)),
])
def test_key_conditions(text: str, op: str | None, bounds: tuple[Any, ...]) -> None:
    values: dict[str, Any] = {":p": {"S": "pk"}, ":a": N1, ":b": N5, ":str": S}
    names = {"#p": "p", "#s": "s"} if "#" in text else None
    binder = Binder(names, {k: v for k, v in values.items() if k in text})
    result = binder.key_condition(text, "p", "s")
    assert result.partition_key == "p"
    assert result.partition_value == {"S": "pk"}
    assert result.sort == (SortKeyCondition(op, bounds) if op else None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "sort_key", "message"), [
    ("p = :p OR s = :a", "s", "Invalid operator used in KeyConditionExpression: OR"),
    ("NOT p = :p", "s", "Invalid operator used in KeyConditionExpression: NOT"),
    ("p = :p AND s <> :a", "s", "Invalid operator used in KeyConditionExpression: <>"),
    ("p = :p AND s IN (:a)", "s", "Invalid operator used in KeyConditionExpression: IN"),
    ("p = :p AND attribute_exists(s)", "s",
     "Invalid operator used in KeyConditionExpression: attribute_exists"),
    ("p = :p AND contains(s, :a)", "s",
     "Invalid operator used in KeyConditionExpression: contains"),
    ("p = :p AND size(s) = :a", "s", "KeyConditionExpressions cannot contain nested operations"),
    ("p = :p AND p = :p", "s", "KeyConditionExpressions must only contain one condition per key"),
    ("p = :p AND s > :a AND s < :b", "s",
     "KeyConditionExpressions must only contain one condition per key"),
    ("p = :p AND s = p", "s",
     "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
     "condition"),
    ("p = :p AND :a = :b", "s",
     "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("p = :p AND s.x = :a", "s",
     "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("p = :p AND :a BETWEEN s AND :b", "s",
     "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
     "attribute as its first operand"),
    ("p = :p AND begins_with(:str, s)", "s",
     "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
     "attribute as its first operand"),
    ("s = :a", "s", "Query condition missed key schema element: p"),
    ("p < :p", "s", "Query key condition not supported"),
    ("begins_with(p, :str)", "s", "Query key condition not supported"),
    ("p = :p AND x = :a", "s", "Query condition missed key schema element: s"),
    ("p = :p AND x = :a", None, "Query key condition not supported"),
])
def test_key_condition_errors(text: str, sort_key: str | None, message: str) -> None:
    values: dict[str, Any] = {":p": {"S": "pk"}, ":a": N1, ":b": N5, ":str": S}
    binder = Binder(None, {k: v for k, v in values.items() if k in text})
    assert error(binder.key_condition, text, "p", sort_key) == message


def test_key_condition_value_type_errors() -> None:
    assert error(key, "p = :p AND begins_with(s, :a)", {":p": S, ":a": N1}) == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )
    assert error(key, "p = :p AND s BETWEEN :b AND :a", {":p": S, ":a": N1, ":b": N5}).startswith(
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound"
    )
    assert error(lambda: key("p = :p", {":p": N1}, key_types={"p": "S"})) == (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
    key("p = :p", {":p": S}, key_types={"p": "S"})


def test_filter_must_not_touch_keys() -> None:
    b = Binder(None, {":v": N1})
    cond = b.filter("a = :v AND (size(s) > :v OR b = :v)")
    assert error(check_filter_keys, cond, ("p", "s")) == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: s"
    )
    check_filter_keys(b.filter("a.p = :v"), ("p", "s"))


def test_bound_tree_has_no_references() -> None:
    b = Binder({"#a": "a"}, {":v": N1})
    assert b.condition("attribute_exists(#a.b)") == Call(
        "attribute_exists", (Path(("a", "b")),)
    )


@pytest.mark.parametrize(("text", "values", "message"), [
    ("a < :v", {":v": {"BOOL": True}}, "operator or function: <, operand type: BOOL"),
    (":v > a", {":v": {"SS": ["x"]}}, "operator or function: >, operand type: SS"),
    ("a BETWEEN :v AND :v", {":v": {"L": []}}, "operator or function: BETWEEN, operand type: L"),
])
def test_ordering_constants_of_unordered_types(text: str, values: dict[str, Any],
                                               message: str) -> None:
    with pytest.raises(ValidationException) as exc:
        Binder(None, values).condition(text)
    assert exc.value.message == (
        "Invalid ConditionExpression: Incorrect operand type for operator or function; "
        + message)
