"""The immutable tree of one PartiQL statement.

Values are DynamoDB AttributeValues already (``{"N": "1"}``); a ``?`` is a :class:`Parameter`
until translation substitutes the request's ``Parameters``. Conditions mirror the expression
language's so that translation is one node for one node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

PathElement: TypeAlias = str | int


@dataclass(frozen=True, slots=True)
class Path:
    """``a.b[2]``: the first element is an attribute name."""

    elements: tuple[PathElement, ...]

    @property
    def name(self) -> str | None:
        """The attribute name of a top-level path, else None."""
        first = self.elements[0]
        return first if len(self.elements) == 1 and isinstance(first, str) else None


@dataclass(frozen=True, slots=True)
class Literal_:
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Parameter:
    """The ``index``-th ``?`` of the statement (from 0)."""

    index: int


@dataclass(frozen=True, slots=True)
class Collection:
    """A list, map or set literal holding parameters, resolved when they are known."""

    kind: Literal["L", "M", "SET"]
    members: tuple[Value, ...]
    keys: tuple[str, ...] = ()  # of a map


Value: TypeAlias = Literal_ | Parameter | Collection


@dataclass(frozen=True, slots=True)
class Size:
    path: Path


@dataclass(frozen=True, slots=True)
class Function:
    """``list_append(a, b)``, ``if_not_exists(a, b)``, ``set_add(a, b)``, ``set_delete(a, b)``
    in a SET."""

    name: Literal["list_append", "set_add", "set_delete", "if_not_exists"]
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: Literal["+", "-"]
    left: Operand
    right: Operand


Operand: TypeAlias = Path | Value | Size | Function | Arithmetic

# --- conditions -------------------------------------------------------------------------------

Comparator: TypeAlias = Literal["=", "<>", "<", "<=", ">", ">="]


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
class Is:
    """``path IS [NOT] MISSING``, ``IS NULL`` or ``IS <type>`` (the NOT is a Not)."""

    path: Path
    what: Literal["MISSING", "NULL", "BOOLEAN", "NUMERIC", "STRING", "BLOB", "STRUCT", "TUPLE",
                  "LIST"]


# The AttributeValue type ``IS <type>`` tests, as DynamoDB maps them.
IS_TYPES = {"BOOLEAN": "BOOL", "NUMERIC": "N", "STRING": "S", "BLOB": "B", "STRUCT": "M",
            "TUPLE": "M", "LIST": "L"}


@dataclass(frozen=True, slots=True)
class Call:
    name: Literal["begins_with", "contains", "attribute_type", "attribute_exists",
                  "attribute_not_exists"]
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


Condition: TypeAlias = Compare | Between | In | Is | Call | And | Or | Not

# --- statements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Select:
    table: str
    index: str | None
    projection: tuple[Path, ...] | None  # None: *
    where: Condition | None
    order_by: tuple[tuple[str, bool], ...] = ()  # (key attribute, descending)


@dataclass(frozen=True, slots=True)
class Insert:
    table: str
    item: Value


@dataclass(frozen=True, slots=True)
class SetClause:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveClause:
    path: Path


Returning: TypeAlias = Literal["ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]


@dataclass(frozen=True, slots=True)
class Update:
    table: str
    clauses: tuple[SetClause | RemoveClause, ...]
    where: Condition
    returning: Returning | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    table: str
    where: Condition
    returning: Returning | None = None


@dataclass(frozen=True, slots=True)
class Exists:
    """``EXISTS(SELECT * FROM t WHERE ...)``: a condition check, only in ExecuteTransaction."""

    select: Select


Statement: TypeAlias = Select | Insert | Update | Delete | Exists


def is_read(statement: Statement) -> bool:
    return isinstance(statement, Select)
