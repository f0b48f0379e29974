"""Statement nodes rendered as expression text, and the WHERE taken apart (pure).

Conditions become the expression language, every name and value through ``#n``/``:v``
placeholders, so the operation that runs the statement parses, binds and evaluates them with
the one expression engine: one evaluator, one set of AttributeValue semantics. No name or
value of the statement is ever spliced into expression text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alternator.errors import ValidationException
from alternator.partiql import ast
from alternator.partiql.lexer import malformed
from alternator.partiql.terms import build
from alternator.schema import TableSchema
from alternator.values import AttributeValue, Item

NO_FULL_KEY = "Where clause does not contain a mandatory equality on all key attributes"


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
            case ast.Function("list_append" | "if_not_exists" as name, args):
                return f"{name}({', '.join(self.operand(a) for a in args)})"
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
            case ast.Is(path, "NULL"):
                # As DynamoDB has it: equal to NULL, so an absent attribute IS NOT NULL.
                return f"{self.path(path)} = {self.constant({'NULL': True})}"
            case ast.Is(path, what):
                return f"attribute_type({self.path(path)}, {self.constant({'S': ast.IS_TYPES[what]})})"
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


def equality(term: ast.Condition, names: Sequence[str]) -> tuple[str, ast.Value] | None:
    """``key = value`` (either way round) for one of ``names``."""
    if not isinstance(term, ast.Compare) or term.op != "=":
        return None
    for path, value in ((term.left, term.right), (term.right, term.left)):
        if isinstance(path, ast.Path) and path.name is not None and path.name in names and \
                isinstance(value, ast.Literal_ | ast.Parameter | ast.Collection):
            return path.name, value
    return None


def mentions(condition: ast.Condition, names: Sequence[str]) -> bool:
    def walk(node: Any) -> bool:
        if isinstance(node, ast.Path):
            return node.elements[0] in names
        if isinstance(node, tuple):
            return any(walk(m) for m in node)
        if hasattr(node, "__slots__") and not isinstance(node, str | int):
            return any(walk(getattr(node, s)) for s in node.__slots__)
        return False

    return walk(condition)


def conjunction(terms: Sequence[ast.Condition]) -> ast.Condition:
    return terms[0] if len(terms) == 1 else ast.And(tuple(terms))


def check_key_type(name: str, value: AttributeValue, expected: str) -> None:
    """A key value of the statement must have the type the schema gives the key."""
    if next(iter(value), None) != expected:
        raise ValidationException("Key attribute's data type should match its data type in "
                                  f"table's schema: Key {name}")


def full_key(where: ast.Condition | None, table: TableSchema,
             parameters: Sequence[AttributeValue],
             missing: str = NO_FULL_KEY) -> tuple[Item, list[ast.Condition]]:
    """The item a WHERE names by equalities on all its key attributes, and its other terms."""
    equal: dict[str, AttributeValue] = {}
    rest: list[ast.Condition] = []
    for term in conjuncts(where):
        found = equality(term, table.key_names)
        if found is None:
            rest.append(term)
            continue
        name, value = found[0], resolve(found[1], parameters)
        if name in equal and equal[name] != value:
            raise ValidationException(f"Multiple conditions on same key {name}. Only single "
                                      "item Update/Insert/Delete are supported")
        equal[name] = value
    if any(name not in equal for name in table.key_names):
        raise ValidationException(missing)
    key = {name: equal[name] for name in table.key_names}
    for attribute in (table.partition_key, table.sort_key):
        if attribute is None:
            continue
        kind = next(iter(key[attribute.name]), "")
        if kind not in ("S", "N", "B"):
            raise ValidationException("Key value must be of type S, N, or B. Key name: "
                                      f"{attribute.name}, Key type: {kind}")
        check_key_type(attribute.name, key[attribute.name], attribute.type)
    return key, rest
