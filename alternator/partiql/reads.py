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
    check_key_type,
    conjunction,
    conjuncts,
    equality,
    full_key,
    mentions,
    resolve,
)
from alternator.schema import KeyAttribute, TableSchema
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


Keys = tuple[tuple[KeyAttribute, ...], tuple[KeyAttribute, ...]]


def _read_keys(select: ast.Select, table: TableSchema) -> Keys:
    """(partition-key attributes, sort-key attributes) of what the SELECT reads: one and at
    most one of each for a table, up to four of each for a multi-attribute index key."""
    if select.index is None:
        return (table.partition_key,), (table.sort_key,) if table.sort_key else ()
    index = table.index(select.index)
    if index is None:
        # Query's and Scan's message, before any other complaint about the statement.
        raise ValidationException(f"The table does not have the specified index: {select.index}")
    return index.partition_key, index.sort_key


MAX_PARTITIONS = 50  # partition-key values of one SELECT's IN (DynamoDB's limit)


@dataclass(frozen=True, slots=True)
class Residual:
    """What is left to do to each item a Query returns when the WHERE's other terms read a key
    attribute, which a Query's FilterExpression may not: filter, then project."""

    filter: expr.Condition | None
    projection: expr.Projection | None

    def apply(self, item: Item | None) -> Item | None:
        if item is None or (self.filter is not None and not expr.evaluate(self.filter, item)):
            return None
        return item if self.projection is None else expr.project(self.projection, item)


@dataclass(frozen=True, slots=True)
class SelectPlan:
    """A SELECT as a Scan, or as Queries of one or more partitions read one after another."""

    operation: str  # "Query" or "Scan"
    requests: tuple[dict[str, Any], ...]
    residual: Residual | None = None


def select_request(select: ast.Select, table: TableSchema | None,
                   parameters: Sequence[AttributeValue]) -> SelectPlan:
    """How ExecuteStatement runs a SELECT.

    A Query when the WHERE fixes the partition key: ``pk = v``, or ``pk IN [...]`` or
    ``pk = a OR pk = b`` (one Query per value, in the order written), or an equality on every
    attribute of a multi-attribute partition key; otherwise a Scan.
    """
    if table is None:
        return SelectPlan("Scan", (_scan(select, parameters),))
    keys = _read_keys(select, table)
    partition, _ = keys
    terms = conjuncts(select.where)
    if len(partition) == 1:
        for position, term in enumerate(terms):
            values = _partition_values(term, partition[0].name)
            if values is not None:
                others = terms[:position] + terms[position + 1:]
                return _queries(select, keys, [[v] for v in _distinct(values, parameters)],
                                others, parameters)
    else:
        names = [a.name for a in partition]
        found: dict[str, ast.Value] = {}
        others = []
        for term in terms:
            equal = equality(term, names)
            if equal is not None and equal[0] not in found:
                found[equal[0]] = equal[1]
            else:
                others.append(term)
        if len(found) == len(names):
            return _queries(select, keys, [[found[n] for n in names]], others, parameters)
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


def _queries(select: ast.Select, keys: Keys, partitions: list[list[ast.Value]],
             terms: list[ast.Condition], parameters: Sequence[AttributeValue]) -> SelectPlan:
    """One Query per partition (its partition-key values); the other terms are the same for
    each. Sort-key terms are pushed into the key condition in key order, equalities first and
    at most one range last, as a Query's key condition allows."""
    partition, sort = keys
    forward = _order(select, [a.name for a in partition], [a.name for a in sort])
    rest = list(terms)
    pushed: list[tuple[KeyAttribute, ast.Condition]] = []
    for attribute in sort:
        on = [t for t in rest if mentions(t, (attribute.name,))]
        if len(on) != 1 or _sort_condition(on[0], attribute.name, Writer(parameters)) is None:
            break
        pushed.append((attribute, on[0]))
        rest.remove(on[0])
        if equality(on[0], (attribute.name,)) is None:
            break  # a range ends the key condition
    names = tuple(a.name for a in partition + sort)
    residual = None
    if any(mentions(t, names) for t in rest):
        residual = _residual(select, rest, parameters)
    requests = []
    for values in partitions:
        writer = Writer(parameters)
        req: dict[str, Any] = {"TableName": select.table}
        if select.index is not None:
            req["IndexName"] = select.index
        parts = []
        for attribute, value in zip(partition, values, strict=True):
            check_key_type(attribute.name, resolve(value, parameters), attribute.type)
            parts.append(f"{writer.name(attribute.name)} = {writer.value(value)}")
        for attribute, term in pushed:
            before = len(writer.values)
            parts.append(str(_sort_condition(term, attribute.name, writer)))
            for bound in list(writer.values.values())[before:]:
                check_key_type(attribute.name, bound, attribute.type)
        req["KeyConditionExpression"] = " AND ".join(parts)
        if residual is None:
            if select.projection is not None:
                req["ProjectionExpression"] = ", ".join(writer.path(p)
                                                        for p in select.projection)
            if rest:
                req["FilterExpression"] = writer.condition(conjunction(rest))
        if not forward:
            req["ScanIndexForward"] = False
        req.update(writer.fields())
        requests.append(req)
    return SelectPlan("Query", tuple(requests), residual)


def _residual(select: ast.Select, rest: list[ast.Condition],
              parameters: Sequence[AttributeValue]) -> Residual:
    writer = Writer(parameters)
    filter_text = writer.condition(conjunction(rest)) if rest else None
    projection_text = ", ".join(writer.path(p) for p in select.projection) \
        if select.projection is not None else None
    binder = expr.Binder(writer.names or None, writer.values or None)
    bound = binder.filter(filter_text) if filter_text is not None else None
    projection = binder.projection(projection_text) if projection_text is not None else None
    binder.finish()
    return Residual(bound, projection)


def _scan(select: ast.Select, parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    if select.order_by:
        raise ValidationException(
            "Must have WHERE clause in the statement when using ORDER BY clause."
            if select.where is None else "Must have at least one non-optional hash key "
            "condition in WHERE clause when using ORDER BY clause.")
    writer = Writer(parameters)
    req: dict[str, Any] = {"TableName": select.table}
    if select.index is not None:
        req["IndexName"] = select.index
    if select.projection is not None:
        req["ProjectionExpression"] = ", ".join(writer.path(p) for p in select.projection)
    if select.where is not None:
        req["FilterExpression"] = writer.condition(select.where)
    req.update(writer.fields())
    return req


def _order(select: ast.Select, partition_keys: list[str], sort_keys: list[str]) -> bool:
    """Whether the ORDER BY reads forward (ascending sort key)."""
    forward = True
    for name, descending in select.order_by:
        if name in sort_keys:
            forward = not descending
        elif name not in partition_keys:
            raise ValidationException(
                f"ORDER BY is supported only on key attributes: {name} is not one")
    return forward


# --- a single item, in a batch or a transaction ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointRead:
    """A SELECT of one item by its full key (a GetItem)."""

    table: str
    key: Item
    projection: expr.Projection | None

    def apply(self, item: Item | None) -> Item | None:
        if item is None or self.projection is None:
            return item
        return expr.project(self.projection, item)


def point_read(select: ast.Select, table: TableSchema, parameters: Sequence[AttributeValue],
               transaction: bool) -> PointRead:
    """A SELECT of a batch or a transaction: by the full key and nothing else (DynamoDB's
    messages, which differ between the two)."""
    if transaction:
        refusal = ("Select statements within ExecuteTransaction must specify the primary key "
                   "in the where clause.")
    else:
        refusal = "Only single item select is supported"
    if select.index is not None:
        raise ValidationException("Reads on indices are not supported within transactions."
                                  if transaction else refusal)
    key, rest = full_key(select.where, table, parameters, refusal)
    if rest:
        raise ValidationException(refusal)
    projection = None
    if select.projection is not None:
        writer = Writer(parameters)
        text = ", ".join(writer.path(p) for p in select.projection)
        binder = expr.Binder(writer.names, None)
        projection = binder.projection(text)
        binder.finish()
    return PointRead(select.table, key, projection)
