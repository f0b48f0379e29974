"""Validation of bound expressions: the checks that need the values or the resolved names.

They run right after binding, before any item is read, so a bad expression is rejected even
when the table is empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alternator.errors import ValidationException
from alternator.expressions.ast import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    IfNotExists,
    In,
    Kind,
    ListAppend,
    Not,
    Operand,
    Or,
    Path,
    Size,
    Update,
    Value,
    format_path,
)
from alternator.values import compare_scalars

# The order in which DynamoDB lists the valid attribute_type names in its message.
VALID_TYPE_NAMES = ("N", "BS", "L", "B", "NULL", "M", "S", "SS", "NS", "BOOL")
# How DynamoDB names types in the ADD / DELETE operand-type message.
LONG_TYPE_NAMES = {
    "S": "STRING", "N": "NUMBER", "B": "BINARY", "SS": "STRING SET", "NS": "NUMBER SET",
    "BS": "BINARY SET", "M": "MAP", "L": "LIST", "NULL": "NULL", "BOOL": "BOOLEAN",
}


def type_of(value: dict[str, Any]) -> str:
    return next(iter(value))


def describe(value: dict[str, Any]) -> str:
    """``{N:5}`` as DynamoDB shows a value inside its messages."""
    kind, inner = next(iter(value.items()))
    return f"{{{kind}:{inner}}}"


def _incorrect_operand(name: str, kind: str) -> str:
    return (
        "Incorrect operand type for operator or function; operator or function: "
        f"{name}, operand type: {kind}"
    )


# --- conditions -------------------------------------------------------------------------------


def check_condition(condition: Condition, kind: Kind) -> None:
    message = _condition_error(condition)
    if message is not None:
        raise ValidationException(f"Invalid {kind.value}: {message}")


def _condition_error(condition: Condition) -> str | None:
    match condition:
        case Compare(op, left, right):
            return (_distinct(op, (left, right)) or _operands_error((left, right))
                    or (_ordered_error(op, (left, right)) if op in _ORDERING else None))
        case Between(operand, low, high):
            return _operands_error((operand, low, high)) or _between_error(operand, low, high)
        case In(operand, options):
            return _operands_error((operand, *options))
        case Call(name, args):
            return _operands_error(args) or _distinct(name, args) or _call_error(name, args)
        case And(items) | Or(items):
            for item in items:
                message = _condition_error(item)
                if message is not None:
                    return message
            return None
        case Not(inner):
            return _condition_error(inner)
    raise AssertionError(condition)


def _static_type(operand: Operand) -> str | None:
    """The type an operand is known to have before any item is read: a constant's own, and N
    for ``size(...)`` (so DynamoDB refuses ``size(size(a))``, ``begins_with(a, size(a))`` and
    ``attribute_type(a, size(a))``: dynalite's test/scan.js, run against DynamoDB)."""
    if isinstance(operand, Value):
        return type_of(operand.value)
    if isinstance(operand, Size):
        return "N"
    return None


def _size_error(size: Size) -> str | None:
    """The innermost ``size`` of a type it cannot measure (N, BOOL, NULL) is the error."""
    if isinstance(size.operand, Size):
        inner = _size_error(size.operand)
        if inner is not None:
            return inner
    kind = _static_type(size.operand)
    if kind in ("N", "BOOL", "NULL"):
        return _incorrect_operand("size", kind)
    return None


def _operands_error(operands: Iterable[Operand]) -> str | None:
    for operand in operands:
        if isinstance(operand, Size):
            message = _size_error(operand)
            if message is not None:
                return message
    return None


_ORDERING = frozenset({"<", "<=", ">", ">="})
_ORDERED_TYPES = frozenset({"S", "N", "B"})


def _ordered_error(op: str, operands: Iterable[Operand]) -> str | None:
    """An ordering operator given a constant it cannot order is an error (while a value of such
    a type in the item only makes the comparison false): tests/test_condition_exactness.py."""
    for operand in operands:
        if isinstance(operand, Value) and type_of(operand.value) not in _ORDERED_TYPES:
            return _incorrect_operand(op, type_of(operand.value))
    return None


def _distinct(op: str, operands: tuple[Operand, ...]) -> str | None:
    first = operands[0]
    if isinstance(first, Path) and any(first == other for other in operands[1:]):
        return (
            "The first operand must be distinct from the remaining operands for this operator "
            f"or function; operator: {op}, first operand: {format_path(first.elements)}"
        )
    return None


def _between_error(operand: Operand, low: Operand, high: Operand) -> str | None:
    if not (isinstance(low, Value) and isinstance(high, Value)):
        return _ordered_error("BETWEEN", (operand, low, high))
    bounds = (
        f"lower bound operand: AttributeValue: {describe(low.value)}, "
        f"upper bound operand: AttributeValue: {describe(high.value)}"
    )
    if type_of(low.value) != type_of(high.value):
        return "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds
    message = _ordered_error("BETWEEN", (operand, low, high))
    if message is not None:
        return message
    order = compare_scalars(low.value, high.value)
    if order is not None and order > 0:
        return (
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            "bound; " + bounds
        )
    return None


_PATH_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type")


def _call_error(name: str, args: tuple[Operand, ...]) -> str | None:
    if name in _PATH_FUNCTIONS and not isinstance(args[0], Path):
        # Only a size(...) whose own check needs the values gets here (parser.py): that
        # check comes first, then this one.
        return f"Operator or function requires a document path; operator or function: {name}"
    if name == "attribute_type":
        type_arg = args[1]
        kind = _static_type(type_arg)
        if kind is not None and kind != "S":
            return _incorrect_operand(name, kind)
        if isinstance(type_arg, Value):
            type_name = type_arg.value["S"]
            if type_name not in VALID_TYPE_NAMES:
                return (
                    f"Invalid attribute type name found; type: {type_name}, valid types: "
                    "{" + ",".join(VALID_TYPE_NAMES) + "}"
                )
    elif name == "begins_with":
        for arg in args:
            kind = _static_type(arg)
            if kind is not None and kind not in ("S", "B"):
                return _incorrect_operand(name, kind)
    return None


# --- updates ----------------------------------------------------------------------------------


def check_update(update: Update) -> None:
    for set_action in update.set:
        message = _set_value_error(set_action.value)
        if message is not None:
            raise ValidationException("Invalid UpdateExpression: " + message)
    for operator, actions, allowed in (
        ("ADD", update.add, ("N", "SS", "NS", "BS")),
        ("DELETE", update.delete, ("SS", "NS", "BS")),
    ):
        for action in actions:
            if isinstance(action.value, Value) and type_of(action.value.value) not in allowed:
                raise ValidationException(
                    "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                    f"operator: {operator}, operand type: "
                    f"{LONG_TYPE_NAMES[type_of(action.value.value)]}"
                )
    check_overlaps([a.path for a in update.actions], Kind.UPDATE)


def _set_value_error(operand: Operand) -> str | None:
    match operand:
        case Arithmetic(op, left, right):
            for side in (left, right):
                if isinstance(side, Value) and type_of(side.value) != "N":
                    return _incorrect_operand(op, type_of(side.value))
            return _set_value_error(left) or _set_value_error(right)
        case ListAppend(first, second):
            for side in (first, second):
                if isinstance(side, Value) and type_of(side.value) != "L":
                    return _incorrect_operand("list_append", type_of(side.value))
            return _set_value_error(first) or _set_value_error(second)
        case IfNotExists(_, default):
            return _set_value_error(default)
    return None


# --- overlapping paths ------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    first: Path
    terminal: bool = False
    children: dict[str | int, _Node] = field(default_factory=dict)


def check_overlaps(paths: Iterable[Path], kind: Kind) -> None:
    """Reject two paths where one is a prefix of the other (overlap) or where one uses an
    element as a map and the other as a list (conflict), as DynamoDB does in Update and
    Projection expressions."""
    root: dict[str | int, _Node] = {}
    for path in paths:
        level = root
        node: _Node | None = None
        for element in path.bound():
            if node is not None and node.terminal:
                _paths_error("overlap", node.first, path, kind)
            existing = level.get(element)
            if existing is None:
                if level and type(next(iter(level))) is not type(element):
                    _paths_error("conflict", next(iter(level.values())).first, path, kind)
                existing = level[element] = _Node(path)
            node, level = existing, existing.children
        assert node is not None
        if node.terminal or node.children:
            _paths_error("overlap", node.first, path, kind)
        node.terminal = True


def _paths_error(what: str, one: Path, two: Path, kind: Kind) -> None:
    raise ValidationException(
        f"Invalid {kind.value}: Two document paths {what} with each other; must remove or "
        f"rewrite one of these paths; path one: {format_path(one.elements)}, "
        f"path two: {format_path(two.elements)}"
    )
