"""The immutable expression tree shared by all five expression kinds.

The parser produces a tree whose paths may hold :class:`NameRef` (``#n``) and whose operands may
be :class:`ValueRef` (``:v``); binding (``bind.py``) replaces them by plain attribute names and
:class:`Value` nodes. Evaluation only ever sees bound trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypeAlias


class Kind(Enum):
    """The expression parameters; the value is the name used in error messages."""

    CONDITION = "ConditionExpression"
    FILTER = "FilterExpression"
    KEY_CONDITION = "KeyConditionExpression"
    PROJECTION = "ProjectionExpression"
    UPDATE = "UpdateExpression"
    SEARCH_CONDITION = "SearchConditionExpression"  # SearchVectors' (a FilterExpression subset)


# --- paths ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameRef:
    """An unbound ``#name`` in a document path."""

    name: str


PathElement: TypeAlias = str | int
"""A bound path element: an attribute/map-key name or a list index."""


@dataclass(frozen=True, slots=True)
class Path:
    """A document path such as ``a.b[3].c``; the first element is always a name."""

    elements: tuple[str | int | NameRef, ...]

    def bound(self) -> tuple[PathElement, ...]:
        """The elements of a bound path (binding guarantees there is no NameRef left)."""
        out: list[PathElement] = []
        for element in self.elements:
            assert not isinstance(element, NameRef), "unbound path"
            out.append(element)
        return tuple(out)

    @property
    def head(self) -> str:
        first = self.elements[0]
        assert isinstance(first, str), "unbound path"
        return first


def format_path(elements: tuple[str | int | NameRef, ...]) -> str:
    """How DynamoDB prints a path in its messages: ``[a, b, [3]]``."""
    parts = []
    for element in elements:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        elif isinstance(element, NameRef):
            parts.append(element.name)
        else:
            parts.append(element)
    return "[" + ", ".join(parts) + "]"


# --- operands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueRef:
    """An unbound ``:value`` reference."""

    name: str


@dataclass(frozen=True, slots=True)
class Value:
    """A bound constant: an AttributeValue from ExpressionAttributeValues (or a legacy field).

    ``name`` keeps the ``:ref`` it came from, for error messages; it is empty for legacy input.
    """

    value: dict[str, Any]
    name: str = ""


@dataclass(frozen=True, slots=True)
class Size:
    """``size(path)``: only valid as an operand of a condition."""

    operand: Operand


@dataclass(frozen=True, slots=True)
class IfNotExists:
    """``if_not_exists(path, default)`` in a SET action."""

    path: Path
    default: Operand


@dataclass(frozen=True, slots=True)
class ListAppend:
    """``list_append(first, second)`` in a SET action."""

    first: Operand
    second: Operand


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left + right`` or ``left - right`` in a SET action (at most one operator)."""

    op: Literal["+", "-"]
    left: Operand
    right: Operand


Operand: TypeAlias = Path | ValueRef | Value | Size | IfNotExists | ListAppend | Arithmetic


# --- conditions -------------------------------------------------------------------------------

Comparator: TypeAlias = Literal["=", "<>", "<", "<=", ">", ">="]
ConditionFunction: TypeAlias = Literal[
    "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"
]


@dataclass(frozen=True, slots=True)
class Compare:
    op: Comparator
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """A boolean function used as a condition, e.g. ``begins_with(a, :p)``."""

    name: ConditionFunction
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    condition: Condition


Condition: TypeAlias = Compare | Between | In | Call | And | Or | Not


# --- update and projection --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True, slots=True)
class AddAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class DeleteAction:
    path: Path
    value: Operand


Action: TypeAlias = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True, slots=True)
class Update:
    """An UpdateExpression: its four clauses, each action in the order written."""

    set: tuple[SetAction, ...] = ()
    remove: tuple[RemoveAction, ...] = ()
    add: tuple[AddAction, ...] = ()
    delete: tuple[DeleteAction, ...] = ()

    @property
    def actions(self) -> tuple[Action, ...]:
        return (*self.set, *self.remove, *self.add, *self.delete)

    @property
    def needs_read(self) -> bool:
        """Whether the outcome depends on the old item, so it must be read first.

        The rule: ADD and DELETE always read (they combine with the old value); a SET or
        REMOVE of a nested path reads (its parent must exist and be a map or list, and list
        indexes are positional); a SET whose value mentions a path (``a + :v``,
        ``if_not_exists``, ``list_append(a, ...)``) reads. Only top-level SETs of constants
        and top-level REMOVEs are blind writes.
        """
        if self.add or self.delete:
            return True
        if any(len(a.path.elements) > 1 for a in self.actions):
            return True
        return any(_reads_item(a.value) for a in self.set)


def _reads_item(operand: Operand) -> bool:
    match operand:
        case Value() | ValueRef():
            return False
        case ListAppend(first, second):
            return _reads_item(first) or _reads_item(second)
        case Arithmetic(_, left, right):
            return _reads_item(left) or _reads_item(right)
    return True  # Path, IfNotExists, Size


@dataclass(frozen=True, slots=True)
class Projection:
    paths: tuple[Path, ...]


# --- key conditions ---------------------------------------------------------------------------

SortOperator: TypeAlias = Literal["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]


@dataclass(frozen=True, slots=True)
class SortKeyCondition:
    """A restriction of the sort key: one value, or two for BETWEEN."""

    op: SortOperator
    values: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class CompositeKeyCondition:
    """A Query's restriction of an index key: the values of every partition-key attribute,
    of the first sort-key attributes, and optionally a range on the next one."""

    partition_values: tuple[dict[str, Any], ...]
    equal: tuple[dict[str, Any], ...]
    sort: SortKeyCondition | None = None


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """A Query's key restriction: one partition, optionally a sort-key range."""

    partition_key: str
    partition_value: dict[str, Any]
    sort_key: str | None = None
    sort: SortKeyCondition | None = None
