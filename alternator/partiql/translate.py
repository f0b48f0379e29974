"""PartiQL statements as the DynamoDB requests that do the same (pure).

A statement becomes the request of the operation DynamoDB runs for it: a SELECT is a Query
when its WHERE fixes the partition key with ``=`` (and at most one term of the sort key is
pushed into the key condition), otherwise a Scan with the WHERE as its filter; INSERT is a
PutItem conditional on the key not existing; UPDATE and DELETE are UpdateItem and DeleteItem
of the one item the WHERE's key equalities name, its other terms their condition.

Conditions are rendered in the expression language, every name and value through
``#n``/``:v`` placeholders, so the operation's own parse -> bind -> evaluate runs them:
one evaluator, one set of AttributeValue semantics, and the same validation messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alternator import expressions as expr
from alternator.errors import ValidationException
from alternator.partiql import ast
from alternator.partiql.lexer import malformed
from alternator.partiql.parser import build
from alternator.schema import TableSchema
from alternator.values import AttributeValue, Item

NO_FULL_KEY = "Where clause does not contain a mandatory equality on all key attributes"
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_RETURN_VALUES = {"ALL_OLD": "ALL_OLD", "UPDATED_OLD": "UPDATED_OLD", "ALL_NEW": "ALL_NEW",
                  "UPDATED_NEW": "UPDATED_NEW"}


class Writer:
    """Renders statement nodes as expression text, collecting the placeholders it uses."""

    def __init__(self, parameters: Sequence[AttributeValue]) -> None:
        self.parameters = parameters
        self.names: dict[str, str] = {}
        self._name_of: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            out["ExpressionAttributeValues"] = dict(self.values)
        return out

    def name(self, name: str) -> str:
        placeholder = self._name_of.get(name)
        if placeholder is None:
            placeholder = f"#n{len(self.names)}"
            self._name_of[name] = placeholder
            self.names[placeholder] = name
        return placeholder

    def path(self, path: ast.Path) -> str:
        parts = []
        for element in path.elements:
            if isinstance(element, int):
                parts.append(f"[{element}]")
            else:
                parts.append(("." if parts else "") + self.name(element))
        return "".join(parts)

    def value(self, value: ast.Value) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = resolve(value, self.parameters)
        return placeholder

    def constant(self, value: AttributeValue) -> str:
        return self.value(ast.Literal_(value))

    def operand(self, operand: ast.Operand) -> str:
        match operand:
            case ast.Path():
                return self.path(operand)
            case ast.Size(path):
                return f"size({self.path(path)})"
            case ast.Arithmetic(op, left, right):
                return f"{self.operand(left)} {op} {self.operand(right)}"
            case ast.Function("list_append", args):
                return f"list_append({', '.join(self.operand(a) for a in args)})"
            case ast.Function(name, _):
                raise malformed(f"{name} can only be the whole value of a SET")
        return self.value(operand)

    def condition(self, condition: ast.Condition, level: int = 0) -> str:
        """The condition's text; ``level`` is where it stands (0: in an OR or alone, 1: in an
        AND, 2: under NOT), so it gets parentheses only where precedence needs them (the
        expression language refuses redundant ones)."""
        match condition:
            case ast.Compare(op, left, right):
                return f"{self.operand(left)} {op} {self.operand(right)}"
            case ast.Between(operand, low, high):
                return (f"{self.operand(operand)} BETWEEN {self.operand(low)} AND "
                        f"{self.operand(high)}")
            case ast.In(operand, options):
                listed = ", ".join(self.operand(o) for o in options)
                return f"{self.operand(operand)} IN ({listed})"
            case ast.Is(path, "MISSING"):
                return f"attribute_not_exists({self.path(path)})"
            case ast.Is(path, _):
                # PartiQL: an absent attribute IS NULL too (it is MISSING, which is null).
                rendered = self.path(path)
                text = (f"attribute_type({rendered}, {self.constant({'S': 'NULL'})}) OR "
                        f"attribute_not_exists({rendered})")
                return f"({text})" if level > 0 else text
            case ast.Call(name, args):
                return f"{name}({', '.join(self.operand(a) for a in args)})"
            case ast.And(parts):
                text = " AND ".join(self.condition(p, 1) for p in parts)
                return f"({text})" if level > 1 else text
            case ast.Or(parts):
                text = " OR ".join(self.condition(p, 0) for p in parts)
                return f"({text})" if level > 0 else text
            case ast.Not(inner):
                return f"NOT {self.condition(inner, 2)}"
        raise AssertionError(condition)


def resolve(value: ast.Value, parameters: Sequence[AttributeValue]) -> AttributeValue:
    match value:
        case ast.Literal_(literal):
            return literal
        case ast.Parameter(index):
            return parameters[index]
        case ast.Collection(kind, members, keys):
            return build(kind, [resolve(m, parameters) for m in members], keys)
    raise AssertionError(value)


def count_parameters(statement: ast.Statement) -> int:
    """How many ``?`` the statement holds (they are numbered as parsed)."""
    highest = -1

    def visit(node: Any) -> None:
        nonlocal highest
        if isinstance(node, ast.Parameter):
            highest = max(highest, node.index)
        elif isinstance(node, tuple):
            for member in node:
                visit(member)
        elif hasattr(node, "__slots__") and not isinstance(node, str | int):
            for slot in node.__slots__:
                visit(getattr(node, slot))

    visit(statement)
    return highest + 1


# --- WHERE --------------------------------------------------------------------------------------


def conjuncts(condition: ast.Condition | None) -> list[ast.Condition]:
    if condition is None:
        return []
    if isinstance(condition, ast.And):
        return [c for part in condition.conditions for c in conjuncts(part)]
    return [condition]


def _equality(term: ast.Condition, names: Sequence[str]) -> tuple[str, ast.Value] | None:
    """``key = value`` (either way round) for one of ``names``."""
    if not isinstance(term, ast.Compare) or term.op != "=":
        return None
    for path, value in ((term.left, term.right), (term.right, term.left)):
        if isinstance(path, ast.Path) and path.name is not None and path.name in names and \
                isinstance(value, ast.Literal_ | ast.Parameter | ast.Collection):
            return path.name, value
    return None


@dataclass(slots=True)
class KeyTerms:
    """A WHERE split into equalities on key attributes and the remaining terms."""

    equal: dict[str, ast.Value] = field(default_factory=dict)
    rest: list[ast.Condition] = field(default_factory=list)


def split_keys(where: ast.Condition | None, names: Sequence[str]) -> KeyTerms:
    out = KeyTerms()
    for term in conjuncts(where):
        found = _equality(term, names)
        if found is not None and found[0] not in out.equal:
            out.equal[found[0]] = found[1]
        else:
            out.rest.append(term)
    return out


def _mentions(condition: ast.Condition, names: Sequence[str]) -> bool:
    def walk(node: Any) -> bool:
        if isinstance(node, ast.Path):
            return node.elements[0] in names
        if isinstance(node, tuple):
            return any(walk(m) for m in node)
        if hasattr(node, "__slots__") and not isinstance(node, str | int):
            return any(walk(getattr(node, s)) for s in node.__slots__)
        return False

    return walk(condition)


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
    found = _equality(term, (partition_key,))
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
            found = _equality(part, (partition_key,))
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
    split = split_keys(_conjunction(terms), (partition_key,))
    rest = list(split.rest)
    key_text = f"{writer.name(partition_key)} = {writer.value(split.equal[partition_key])}"
    if sort_key is not None:
        on_sort = [t for t in rest if _mentions(t, (sort_key,))]
        if len(on_sort) == 1:
            pushed = _sort_condition(on_sort[0], sort_key, writer)
            if pushed is not None:
                key_text += f" AND {pushed}"
                rest.remove(on_sort[0])
    if any(_mentions(t, (partition_key,) + ((sort_key,) if sort_key else ())) for t in rest):
        return None
    req["KeyConditionExpression"] = key_text
    if rest:
        req["FilterExpression"] = writer.condition(_conjunction(rest))
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


def _conjunction(terms: Sequence[ast.Condition]) -> ast.Condition:
    return terms[0] if len(terms) == 1 else ast.And(tuple(terms))


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
    key, rest = _full_key(select.where, table, parameters)
    writer = Writer(parameters)
    filter_text = writer.condition(_conjunction(rest)) if rest else None
    projection_text = ", ".join(writer.path(p) for p in select.projection) \
        if select.projection is not None else None
    binder = expr.Binder(writer.names or None, writer.values or None)
    bound_filter = binder.filter(filter_text) if filter_text is not None else None
    projection = binder.projection(projection_text) if projection_text is not None else None
    binder.finish()
    return PointRead(select.table, key, bound_filter, projection)


def _full_key(where: ast.Condition | None, table: TableSchema,
              parameters: Sequence[AttributeValue]) -> tuple[Item, list[ast.Condition]]:
    terms = split_keys(where, table.key_names)
    if any(name not in terms.equal for name in table.key_names):
        raise ValidationException(NO_FULL_KEY)
    key = {name: resolve(terms.equal[name], parameters) for name in table.key_names}
    return key, terms.rest


# --- writes ---------------------------------------------------------------------------------------


def insert_request(insert: ast.Insert, table: TableSchema,
                   parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """PutItem of the item unless its key exists (DuplicateItemException then)."""
    item = resolve(insert.item, parameters)
    if not isinstance(item, dict) or set(item) != {"M"} or not isinstance(item["M"], dict):
        raise malformed("Expected an item (a map such as {'key': 'value'}) after VALUE")
    writer = Writer(parameters)
    return {"TableName": insert.table, "Item": item["M"],
            "ConditionExpression": f"attribute_not_exists({writer.name(table.partition_key.name)})",
            **writer.fields()}


def update_request(update: ast.Update, table: TableSchema,
                   parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """UpdateItem of an item that must exist (ConditionalCheckFailedException if not)."""
    key, rest = _full_key(update.where, table, parameters)
    writer = Writer(parameters)
    sets: list[str] = []
    removes: list[str] = []
    adds: list[str] = []
    deletes: list[str] = []
    for clause in update.clauses:
        if isinstance(clause, ast.RemoveClause):
            removes.append(writer.path(clause.path))
            continue
        value = clause.value
        if isinstance(value, ast.Function) and value.name in ("set_add", "set_delete"):
            operand = value.args[1]
            assert isinstance(operand, ast.Literal_ | ast.Parameter | ast.Collection)
            action = f"{writer.path(clause.path)} {writer.value(operand)}"
            (adds if value.name == "set_add" else deletes).append(action)
        else:
            sets.append(f"{writer.path(clause.path)} = {writer.operand(value)}")
    text = " ".join(f"{word} {', '.join(actions)}" for word, actions in (
        ("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)) if actions)
    exists = f"attribute_exists({writer.name(table.partition_key.name)})"
    condition = exists if not rest else f"{exists} AND {writer.condition(_conjunction(rest), 1)}"
    req: dict[str, Any] = {"TableName": update.table, "Key": key, "UpdateExpression": text,
                           "ConditionExpression": condition, **writer.fields()}
    if update.returning is not None:
        req["ReturnValues"] = _RETURN_VALUES[update.returning]
    return req


def delete_request(delete: ast.Delete, table: TableSchema,
                   parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """DeleteItem: of a missing item is a no-op, unless other terms make a condition."""
    key, rest = _full_key(delete.where, table, parameters)
    writer = Writer(parameters)
    req: dict[str, Any] = {"TableName": delete.table, "Key": key}
    if rest:
        req["ConditionExpression"] = writer.condition(_conjunction(rest))
    if delete.returning is not None:
        if delete.returning != "ALL_OLD":
            raise ValidationException("DELETE supports only RETURNING ALL OLD *")
        req["ReturnValues"] = "ALL_OLD"
    req.update(writer.fields())
    return req


def check_request(exists: ast.Exists, table: TableSchema,
                  parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """EXISTS(SELECT ...) in a transaction: a ConditionCheck that the item exists and the
    SELECT's other terms hold."""
    select = exists.select
    if select.index is not None or select.order_by:
        raise ValidationException("EXISTS must SELECT one item of a table by its full key")
    key, rest = _full_key(select.where, table, parameters)
    writer = Writer(parameters)
    condition = f"attribute_exists({writer.name(table.partition_key.name)})"
    if rest:
        condition += f" AND {writer.condition(_conjunction(rest), 1)}"
    return {"TableName": select.table, "Key": key, "ConditionExpression": condition,
            **writer.fields()}
