"""KeyConditionExpression: a restriction checked on a parsed condition, not a separate grammar.

A key condition is an AND of at most two simple conditions: ``pk = :v`` and, optionally, one of
``sk = < <= > >= :v``, ``sk BETWEEN :a AND :b``, ``begins_with(sk, :p)``. DynamoDB parses it with
the ConditionExpression parser and then refuses everything else with the messages below (they
carry no "Invalid KeyConditionExpression:" prefix).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from alternator.errors import ValidationException
from alternator.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    KeyCondition,
    Not,
    Operand,
    Or,
    Path,
    Size,
    SortKeyCondition,
    SortOperator,
    Value,
)
from alternator.expressions.evaluate import paths_in_condition

_REVERSED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _invalid(message: str) -> ValidationException:
    return ValidationException(message)


def key_condition(
    condition: Condition,
    partition_key: str,
    sort_key: str | None,
    key_types: Mapping[str, str] | None = None,
) -> KeyCondition:
    """Turn a bound KeyConditionExpression into a :class:`KeyCondition`."""
    conditions: dict[str, tuple[str, tuple[dict[str, Any], ...]]] = {}
    for leaf in _leaves(condition):
        name, op, values = _simple_condition(leaf)
        if name in conditions:
            raise _invalid("KeyConditionExpressions must only contain one condition per key")
        conditions[name] = (op, values)
    return build_key_condition(conditions, partition_key, sort_key, key_types)


def build_key_condition(
    conditions: Mapping[str, tuple[str, tuple[dict[str, Any], ...]]],
    partition_key: str,
    sort_key: str | None,
    key_types: Mapping[str, str] | None = None,
) -> KeyCondition:
    """Check per-attribute conditions (attribute -> operator, values) against the key schema.

    Shared with the legacy KeyConditions parameter.
    """
    if partition_key not in conditions:
        raise _invalid(f"Query condition missed key schema element: {partition_key}")
    for name in conditions:
        if name not in (partition_key, sort_key):
            if sort_key is None:
                raise _invalid("Query key condition not supported")
            raise _invalid(f"Query condition missed key schema element: {sort_key}")
    op, values = conditions[partition_key]
    if op != "=":
        raise _invalid("Query key condition not supported")
    if key_types is not None:
        for name, (_, vals) in conditions.items():
            wanted = key_types.get(name)
            if wanted is not None and any(wanted not in v for v in vals):
                raise _invalid(
                    "One or more parameter values were invalid: Condition parameter type does "
                    "not match schema type"
                )
    sort = None
    if sort_key is not None and sort_key in conditions:
        sort_op, sort_values = conditions[sort_key]
        sort = SortKeyCondition(cast(SortOperator, sort_op), sort_values)
    return KeyCondition(partition_key, values[0], sort_key, sort)


def _leaves(condition: Condition) -> list[Condition]:
    match condition:
        case And(items):
            return [leaf for item in items for leaf in _leaves(item)]
        case Or():
            raise _invalid("Invalid operator used in KeyConditionExpression: OR")
        case Not():
            raise _invalid("Invalid operator used in KeyConditionExpression: NOT")
        case In():
            raise _invalid("Invalid operator used in KeyConditionExpression: IN")
        case Compare("<>", _, _):
            raise _invalid("Invalid operator used in KeyConditionExpression: <>")
        case Call(name, _) if name != "begins_with":
            raise _invalid(f"Invalid operator used in KeyConditionExpression: {name}")
    return [condition]


def _simple_condition(leaf: Condition) -> tuple[str, str, tuple[dict[str, Any], ...]]:
    """(key attribute, operator, values) of one comparison, BETWEEN or begins_with."""
    match leaf:
        case Compare(op, left, right):
            operands: tuple[Operand, ...] = (left, right)
            label: str = op
        case Between(operand, low, high):
            operands = (operand, low, high)
            label = "BETWEEN"
        case Call(name, args):
            operands = args
            label = name
        case _:
            raise AssertionError(leaf)
    if any(isinstance(o, Size) for o in operands):
        raise _invalid("KeyConditionExpressions cannot contain nested operations")
    if label in ("BETWEEN", "begins_with") and not isinstance(operands[0], Path):
        raise _invalid(
            f"Invalid condition in KeyConditionExpression: {label} operator must have the key "
            "attribute as its first operand"
        )
    paths = [(i, o) for i, o in enumerate(operands) if isinstance(o, Path)]
    if len(paths) > 1:
        raise _invalid(
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition"
        )
    if not paths:
        raise _invalid("Invalid condition in KeyConditionExpression: No key attribute specified")
    index, path = paths[0]
    assert isinstance(path, Path)
    if len(path.elements) > 1:
        raise _invalid("KeyConditionExpressions cannot have conditions on nested attributes")
    values = tuple(o.value for o in operands if isinstance(o, Value))
    if index != 0:
        label = _REVERSED[label]
    return path.head, label, values


def check_filter_keys(condition: Condition, key_attributes: Collection[str]) -> None:
    """A Query's FilterExpression may not read key attributes."""
    for path in paths_in_condition(condition):
        if path.head in key_attributes:
            raise ValidationException(
                "Filter Expression can only contain non-primary key attributes: "
                f"Primary key attribute: {path.head}"
            )
