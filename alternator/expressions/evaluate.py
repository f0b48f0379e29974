"""Evaluation of bound conditions against an item: pure functions, no I/O.

DynamoDB's rules, each pinned by tests/unit/test_expr_evaluate.py:
- a comparison with a missing operand is false, except ``<>`` which is then true;
- values of different types are never equal and never ordered;
- ``<``, ``<=``, ``>``, ``>=`` and BETWEEN order only S (by UTF-8 bytes), N (numerically) and
  B (by bytes); any other type makes them false;
- ``size`` counts UTF-8 bytes of S, bytes of B, elements of sets, L and M; it has no value for
  N, BOOL and NULL (so a comparison with it is false).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alternator.expressions.ast import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    IfNotExists,
    In,
    ListAppend,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    Size,
    Value,
    ValueRef,
)
from alternator.values import compare_scalars, decode_binary, values_equal

AttributeValue = dict[str, Any]


def get_path(item: Mapping[str, AttributeValue], elements: tuple[PathElement, ...]) -> (
    AttributeValue | None
):
    """The value at a document path, or None when any step is missing or of the wrong type."""
    head = elements[0]
    assert isinstance(head, str)
    value: AttributeValue | None = item.get(head)
    for element in elements[1:]:
        if value is None:
            return None
        if isinstance(element, int):
            items = value.get("L")
            if items is None or element >= len(items):
                return None
            value = items[element]
        else:
            members = value.get("M")
            if members is None:
                return None
            value = members.get(element)
    return value


def operand_value(operand: Operand, item: Mapping[str, AttributeValue]) -> AttributeValue | None:
    """The value of a condition operand; None when it has none (missing attribute, bad size)."""
    match operand:
        case Path():
            return get_path(item, operand.bound())
        case Value(value):
            return value
        case Size(inner):
            measured = operand_value(inner, item)
            return None if measured is None else size_of(measured)
        case ValueRef() | IfNotExists() | ListAppend() | Arithmetic():
            raise AssertionError(f"not a bound condition operand: {operand}")
    raise AssertionError(operand)


def size_of(value: AttributeValue) -> AttributeValue | None:
    (kind, inner), = value.items()
    if kind == "S":
        return {"N": str(len(inner.encode()))}
    if kind == "B":
        return {"N": str(len(decode_binary(inner)))}
    if kind in ("SS", "NS", "BS", "L", "M"):
        return {"N": str(len(inner))}
    return None


def evaluate(condition: Condition, item: Mapping[str, AttributeValue] | None) -> bool:
    """Whether ``item`` (None: no item) satisfies a bound condition."""
    return _evaluate(condition, item if item is not None else {})


def _evaluate(condition: Condition, item: Mapping[str, AttributeValue]) -> bool:
    match condition:
        case Compare(op, left, right):
            return compare(op, operand_value(left, item), operand_value(right, item))
        case Between(operand, low, high):
            return between(
                operand_value(operand, item), operand_value(low, item), operand_value(high, item)
            )
        case In(operand, options):
            value = operand_value(operand, item)
            if value is None:
                return False
            for option in options:
                candidate = operand_value(option, item)
                if candidate is not None and values_equal(value, candidate):
                    return True
            return False
        case Call(name, args):
            return _call(name, args, item)
        case And(items):
            return all(_evaluate(c, item) for c in items)
        case Or(items):
            return any(_evaluate(c, item) for c in items)
        case Not(inner):
            return not _evaluate(inner, item)
    raise AssertionError(condition)


def compare(op: str, left: AttributeValue | None, right: AttributeValue | None) -> bool:
    if left is None or right is None:
        return op == "<>"
    if op == "=":
        return values_equal(left, right)
    if op == "<>":
        return not values_equal(left, right)
    order = compare_scalars(left, right)
    if order is None:
        return False
    match op:
        case "<":
            return order < 0
        case "<=":
            return order <= 0
        case ">":
            return order > 0
        case ">=":
            return order >= 0
    raise AssertionError(op)


def between(
    value: AttributeValue | None, low: AttributeValue | None, high: AttributeValue | None
) -> bool:
    if value is None or low is None or high is None:
        return False
    above = compare_scalars(value, low)
    below = compare_scalars(value, high)
    return above is not None and below is not None and above >= 0 and below <= 0


def _call(name: str, args: tuple[Operand, ...], item: Mapping[str, AttributeValue]) -> bool:
    first = operand_value(args[0], item)
    match name:
        case "attribute_exists":
            return first is not None
        case "attribute_not_exists":
            return first is None
        case "attribute_type":
            wanted = operand_value(args[1], item)
            return (
                first is not None and wanted is not None and "S" in wanted
                and next(iter(first)) == wanted["S"]
            )
        case "begins_with":
            return begins_with(first, operand_value(args[1], item))
        case "contains":
            return contains(first, operand_value(args[1], item))
    raise AssertionError(name)


def begins_with(value: AttributeValue | None, prefix: AttributeValue | None) -> bool:
    if value is None or prefix is None:
        return False
    if "S" in value and "S" in prefix:
        return bool(value["S"].startswith(prefix["S"]))
    if "B" in value and "B" in prefix:
        return decode_binary(value["B"]).startswith(decode_binary(prefix["B"]))
    return False


_SET_MEMBER = {"SS": "S", "NS": "N", "BS": "B"}


def contains(value: AttributeValue | None, member: AttributeValue | None) -> bool:
    """``contains``: substring of S, subsequence of B, element of a set or a list."""
    if value is None or member is None:
        return False
    (kind, inner), = value.items()
    if kind == "S":
        return "S" in member and member["S"] in inner
    if kind == "B":
        return "B" in member and decode_binary(member["B"]) in decode_binary(inner)
    if kind in _SET_MEMBER:
        element_type = _SET_MEMBER[kind]
        if element_type not in member:
            return False
        return any(values_equal({element_type: e}, member) for e in inner)
    if kind == "L":
        return any(values_equal(e, member) for e in inner)
    return False


def paths_in_condition(condition: Condition) -> list[Path]:
    """Every document path a bound condition reads, in order."""
    out: list[Path] = []

    def visit_operand(operand: Operand) -> None:
        match operand:
            case Path():
                out.append(operand)
            case Size(inner):
                visit_operand(inner)

    def visit(node: Condition) -> None:
        match node:
            case Compare(_, left, right):
                visit_operand(left)
                visit_operand(right)
            case Between(operand, low, high):
                for o in (operand, low, high):
                    visit_operand(o)
            case In(operand, options):
                for o in (operand, *options):
                    visit_operand(o)
            case Call(_, args):
                for o in args:
                    visit_operand(o)
            case And(items) | Or(items):
                for c in items:
                    visit(c)
            case Not(inner):
                visit(inner)

    visit(condition)
    return out
