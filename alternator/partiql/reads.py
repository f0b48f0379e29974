"""SELECT as the Query, Scan or GetItem that does the same (pure).

A SELECT is a Query when its WHERE fixes the partition key (``pk = v``, ``pk IN [...]``,
``pk = a OR pk = b``: one Query per value), with at most one term of the sort key pushed into
the key condition and the other terms its filter; otherwise a Scan with the WHERE as filter.
In a batch or a transaction a SELECT names one item by its full key (:class:`PointRead`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alternator import expressions as expr
from alternator.errors import ValidationException
from alternator.partiql import ast
from alternator.partiql.render import (
    Writer,
    conjunction,
    conjuncts,
    equality,
    full_key,
    mentions,
    resolve,
    split_keys,
)
from alternator.schema import TableSchema
from alternator.values import AttributeValue, Item

_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _sort_condition(term: ast.Condition, sort_key: str, writer: Writer) -> str | None:
    """A term of the sort key that a key condition can hold, rendered; else None."""
    values = (ast.Literal_, ast.Parameter, ast.Collection)
    match term:
        case ast.Compare(op, left, right) if op != "<>":
            if isinstance(left, ast.Path) and left.name == sort_key and isinstance(right, values):
                return f"{writer.name(sort_key)} {op} {writer.value(right)}"
            if isinstance(right, ast.Path) and right.name == sort_key and isinstance(left, values):
                return f"{writer.name(sort_key)} {_FLIPPED[op]} {writer.value(left)}"
        case ast.Between(ast.Path() as path, low, high) if path.name == sort_key and \
                isinstance(low, values) and isinstance(high, values):
            return f"{writer.name(sort_key)} BETWEEN {writer.value(low)} AND {writer.value(high)}"
        case ast.Call("begins_with", (ast.Path() as path, prefix)) if path.name == sort_key and \
                isinstance(prefix, values):
            return f"begins_with({writer.name(sort_key)}, {writer.value(prefix)})"
    return None


# --- SELECT ---------------------------------------------------------------------------------------


def _read_keys(select: ast.Select, table: TableSchema) -> tuple[str, str | None] | None:
    """(partition key, sort key) of what the SELECT reads; None for a multi-attribute key."""
    if select.index is None:
        return table.partition_key.name, table.sort_key.name if table.sort_key else None
    index = table.index(select.index)
    if index is None:
        # Query's and Scan's message, before any other complaint about the statement.
        raise ValidationException(f"The table does not have the specified index: {select.index}")
    if len(index.partition_key) != 1 or len(index.sort_key) > 1:
        return None
    return index.partition_key[0].name, index.sort_key[0].name if index.sort_key else None


MAX_PARTITIONS = 50  # partition-key values of one SELECT's IN (DynamoDB's limit)


@dataclass(frozen=True, slots=True)
class SelectPlan:
    """A SELECT as a Scan, or as Queries of one or more partitions read one after another."""

    operation: str  # "Query" or "Scan"
    requests: tuple[dict[str, Any], ...]


def select_request(select: ast.Select, table: TableSchema | None,
                   parameters: Sequence[AttributeValue]) -> SelectPlan:
    """How ExecuteStatement runs a SELECT.

    A Query when the WHERE fixes the partition key: ``pk = v``, or ``pk IN [...]`` or
    ``pk = a OR pk = b`` (one Query per value, in the order written); otherwise a Scan.
    """
    keys = _read_keys(select, table) if table is not None else None
    if keys is not None:
        partition_key, sort_key = keys
        terms = conjuncts(select.where)
        for position, term in enumerate(terms):
            values = _partition_values(term, partition_key)
            if values is None:
                continue
            others = terms[:position] + terms[position + 1:]
            requests = []
            for value in _distinct(values, parameters):
                equal = ast.Compare("=", ast.Path((partition_key,)), value)
                request = _query(select, partition_key, sort_key, [equal, *others], parameters)
                if request is None:
                    break
                requests.append(request)
            else:
                return SelectPlan("Query", tuple(requests))
    return SelectPlan("Scan", (_scan(select, parameters),))


def _partition_values(term: ast.Condition, partition_key: str) -> list[ast.Value] | None:
    """The partition-key values a term allows: ``pk = v``, ``pk IN [..]``, ``pk = a OR ...``."""
    found = equality(term, (partition_key,))
    if found is not None:
        return [found[1]]
    values: list[ast.Value] = []
    if isinstance(term, ast.In) and isinstance(term.operand, ast.Path) and \
            term.operand.name == partition_key:
        for option in term.options:
            if not isinstance(option, ast.Literal_ | ast.Parameter | ast.Collection):
                return None
            values.append(option)
    elif isinstance(term, ast.Or):
        for part in term.conditions:
            found = equality(part, (partition_key,))
            if found is None:
                return None
            values.append(found[1])
    else:
        return None
    if len(values) > MAX_PARTITIONS:
        raise ValidationException(
            f"A SELECT can name at most {MAX_PARTITIONS} partition-key values")
    return values


def _distinct(values: list[ast.Value], parameters: Sequence[AttributeValue]) -> list[ast.Value]:
    seen: list[AttributeValue] = []
    out = []
    for value in values:
        resolved = resolve(value, parameters)
        if resolved not in seen:
            seen.append(resolved)
            out.append(value)
    return out


def _query(select: ast.Select, partition_key: str, sort_key: str | None,
           terms: list[ast.Condition], parameters: Sequence[AttributeValue]
           ) -> dict[str, Any] | None:
    """The Query of one partition; None if a remaining term reads a key attribute (a Query's
    filter cannot)."""
    writer = Writer(parameters)
    req = _base(select, writer)
    split = split_keys(conjunction(terms), (partition_key,))
    rest = list(split.rest)
    key_text = f"{writer.name(partition_key)} = {writer.value(split.equal[partition_key])}"
    if sort_key is not None:
        on_sort = [t for t in rest if mentions(t, (sort_key,))]
        if len(on_sort) == 1:
            pushed = _sort_condition(on_sort[0], sort_key, writer)
            if pushed is not None:
                key_text += f" AND {pushed}"
                rest.remove(on_sort[0])
    if any(mentions(t, (partition_key,) + ((sort_key,) if sort_key else ())) for t in rest):
        return None
    req["KeyConditionExpression"] = key_text
    if rest:
        req["FilterExpression"] = writer.condition(conjunction(rest))
    if not _order(select, partition_key, sort_key):
        req["ScanIndexForward"] = False
    req.update(writer.fields())
    return req


def _scan(select: ast.Select, parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    if select.order_by:
        raise ValidationException(
            "ORDER BY is supported only when the WHERE clause fixes the partition key "
            "with an equality (the SELECT is then a Query)")
    writer = Writer(parameters)
    req = _base(select, writer)
    if select.where is not None:
        req["FilterExpression"] = writer.condition(select.where)
    req.update(writer.fields())
    return req


def _base(select: ast.Select, writer: Writer) -> dict[str, Any]:
    req: dict[str, Any] = {"TableName": select.table}
    if select.index is not None:
        req["IndexName"] = select.index
    if select.projection is not None:
        req["ProjectionExpression"] = ", ".join(writer.path(p) for p in select.projection)
    return req


def _order(select: ast.Select, partition_key: str, sort_key: str | None) -> bool:
    """Whether the ORDER BY reads forward (ascending sort key)."""
    forward = True
    for name, descending in select.order_by:
        if name == sort_key:
            forward = not descending
        elif name != partition_key:
            raise ValidationException(
                f"ORDER BY is supported only on key attributes: {name} is not one")
    return forward


@dataclass(frozen=True, slots=True)
class PointRead:
    """A SELECT of one item by its full key (in a batch or a transaction)."""

    table: str
    key: Item
    filter: expr.Condition | None
    projection: expr.Projection | None

    def apply(self, item: Item | None) -> Item | None:
        if item is None or (self.filter is not None and not expr.evaluate(self.filter, item)):
            return None
        return item if self.projection is None else expr.project(self.projection, item)


def point_read(select: ast.Select, table: TableSchema,
               parameters: Sequence[AttributeValue]) -> PointRead:
    if select.index is not None:
        raise ValidationException("Only single item select is supported: a batch or a "
                                  "transaction cannot read an index")
    if select.order_by:
        raise ValidationException("ORDER BY is not supported in a batch or a transaction")
    key, rest = full_key(select.where, table, parameters)
    writer = Writer(parameters)
    filter_text = writer.condition(conjunction(rest)) if rest else None
    projection_text = ", ".join(writer.path(p) for p in select.projection) \
        if select.projection is not None else None
    binder = expr.Binder(writer.names or None, writer.values or None)
    bound_filter = binder.filter(filter_text) if filter_text is not None else None
    projection = binder.projection(projection_text) if projection_text is not None else None
    binder.finish()
    return PointRead(select.table, key, bound_filter, projection)
