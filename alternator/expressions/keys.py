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
    CompositeKeyCondition,
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
    return build_key_condition(key_parts(condition), partition_key, sort_key, key_types)


KeyParts = dict[str, tuple[str, tuple[dict[str, Any], ...]]]


def key_parts(condition: Condition) -> KeyParts:
    """A bound KeyConditionExpression as its conditions per attribute (operator, values)."""
    conditions: KeyParts = {}
    for leaf in _leaves(condition):
        name, op, values = _simple_condition(leaf)
        if name in conditions:
            raise _invalid("KeyConditionExpressions must only contain one condition per key")
        conditions[name] = (op, values)
    return conditions


def build_composite_key_condition(
    conditions: Mapping[str, tuple[str, tuple[dict[str, Any], ...]]],
    partition_keys: tuple[str, ...],
    sort_keys: tuple[str, ...],
    key_types: Mapping[str, str],
) -> CompositeKeyCondition:
    """Per-attribute conditions checked against an index key of several attributes
    (DynamoDB's multi-attribute keys): every partition-key attribute with ``=``, then
    conditions on the sort-key attributes from the first on without a gap, ``=`` on all but
    the last given, which may be any sort-key condition."""
    for name in partition_keys:
        if name not in conditions:
            raise _invalid(f"Query condition missed key schema element: {name}")
        if conditions[name][0] != "=":
            raise _invalid("Query key condition not supported")
    for name in conditions:
        if name not in partition_keys and name not in sort_keys:
            raise _invalid(f"Query condition missed key schema element: "
                           f"{sort_keys[0] if sort_keys else name}")
    for name, (_, values) in conditions.items():
        if any(key_types[name] not in v for v in values):
            raise _invalid("One or more parameter values were invalid: Condition parameter "
                           "type does not match schema type")
    given = [n for n in sort_keys if n in conditions]
    if given != list(sort_keys[:len(given)]):
        missing = next(n for n in sort_keys if n not in conditions)
        raise _invalid(f"Query condition missed key schema element: {missing}")
    for name in given[:-1]:
        if conditions[name][0] != "=":
            raise _invalid("Query key condition not supported: only the last sort key "
                           f"attribute given may have a range condition, not {name}")
    equal = tuple(conditions[n][1][0] for n in given)
    sort = None
    if given and conditions[given[-1]][0] != "=":
        op, values = conditions[given[-1]]
        equal = equal[:-1]
        sort = SortKeyCondition(cast(SortOperator, op), values)
    return CompositeKeyCondition(tuple(conditions[n][1][0] for n in partition_keys), equal, sort)


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
