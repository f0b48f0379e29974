"""Binding: resolve ``#names`` and ``:values`` of one request's expressions.

DynamoDB checks ExpressionAttributeNames/Values across *all* expressions of a request (a value
unused by the ConditionExpression may be used by the UpdateExpression), so one :class:`Binder`
serves a whole request: bind each expression, then call :meth:`Binder.finish` to reject the
unused ones. Operations bind in DynamoDB's order: Update, Condition, KeyCondition, Filter,
Projection, so the first error reported is the one DynamoDB reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from alternator.errors import SerializationException, ValidationException
from alternator.expressions import checks
from alternator.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    IfNotExists,
    In,
    KeyCondition,
    Kind,
    ListAppend,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Size,
    Update,
    Value,
    ValueRef,
)
from alternator.expressions.parser import parse_condition, parse_projection, parse_update
from alternator.values import check_attribute_name, validate_value

_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


class Binder:
    """Binds the expressions of one request against its names and values maps."""

    def __init__(self, names: Mapping[str, Any] | None, values: Mapping[str, Any] | None) -> None:
        self.names: dict[str, str] = _validate_names(names)
        self.values: dict[str, dict[str, Any]] = _validate_values(values)
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    # --- the five kinds ---------------------------------------------------------------------

    def condition(self, text: str) -> Condition:
        return self._condition(text, Kind.CONDITION)

    def filter(self, text: str) -> Condition:
        return self._condition(text, Kind.FILTER)

    def search_condition(self, text: str) -> Condition:
        """SearchVectors' SearchConditionExpression, parsed as a filter (its restrictions are
        operations/vector_search.py's)."""
        return self._condition(text, Kind.SEARCH_CONDITION)

    def update(self, text: str) -> Update:
        parsed = parse_update(text)
        resolver = _Resolver(self, Kind.UPDATE)
        bound = resolver.update(parsed)
        resolver.commit()
        checks.check_update(bound)
        return bound

    def projection(self, text: str) -> Projection:
        parsed = parse_projection(text)
        resolver = _Resolver(self, Kind.PROJECTION)
        bound = Projection(tuple(resolver.path(p) for p in parsed.paths))
        resolver.commit()
        checks.check_overlaps(bound.paths, Kind.PROJECTION)
        return bound

    def key_condition(
        self,
        text: str,
        partition_key: str,
        sort_key: str | None,
        key_types: Mapping[str, str] | None = None,
    ) -> KeyCondition:
        """Bind a KeyConditionExpression and turn it into a :class:`KeyCondition`.

        ``key_types`` (attribute name -> "S" | "N" | "B"), when given, is used to reject
        values whose type does not match the key schema.
        """
        from alternator.expressions.keys import key_condition

        bound = self._condition(text, Kind.KEY_CONDITION)
        return key_condition(bound, partition_key, sort_key, key_types)

    def key_parts(self, text: str) -> dict[str, tuple[str, tuple[dict[str, Any], ...]]]:
        """Bind a KeyConditionExpression into its conditions per attribute (keys.key_parts)."""
        from alternator.expressions.keys import key_parts

        return key_parts(self._condition(text, Kind.KEY_CONDITION))

    def finish(self) -> None:
        """Reject names and values that no expression of the request used."""
        unused_names = [k for k in self.names if k not in self.used_names]
        if unused_names:
            raise ValidationException(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                "keys: {" + ", ".join(unused_names) + "}"
            )
        unused_values = [k for k in self.values if k not in self.used_values]
        if unused_values:
            raise ValidationException(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                "keys: {" + ", ".join(unused_values) + "}"
            )

    def _condition(self, text: str, kind: Kind) -> Condition:
        parsed = parse_condition(text, kind)
        resolver = _Resolver(self, kind)
        bound = resolver.condition(parsed)
        resolver.commit()
        checks.check_condition(bound, kind)
        return bound


def _validate_names(names: Mapping[str, Any] | None) -> dict[str, str]:
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise ValidationException("ExpressionAttributeNames must be a map")
    if not names:
        raise ValidationException("ExpressionAttributeNames must not be empty")
    for key, name in names.items():
        if not _NAME_KEY.fullmatch(key):
            raise ValidationException(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
            )
        if not isinstance(name, str):
            # A JSON number (or anything else) where a string belongs is the JSON front end's
            # SerializationException (tests/test_legacy_exactness.py).
            raise SerializationException(
                "Unexpected value type in payload for ExpressionAttributeNames: expected a string"
            )
        if not name:
            raise ValidationException(
                "ExpressionAttributeNames contains invalid value: Empty attribute name "
                f"for key {key}"
            )
        check_attribute_name(name)
    return dict(names)


def _validate_values(values: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValidationException("ExpressionAttributeValues must be a map")
    if not values:
        raise ValidationException("ExpressionAttributeValues must not be empty")
    for key in values:
        if not _VALUE_KEY.fullmatch(key):
            raise ValidationException(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
            )
    out: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        try:
            out[key] = validate_value(value)
        except ValidationException as error:
            raise ValidationException(
                f"ExpressionAttributeValues contains invalid value: {error.message} for key {key}"
            ) from None
    return out


class _Resolver:
    """Replaces NameRef/ValueRef in one expression; marks names and values used on commit."""

    def __init__(self, binder: Binder, kind: Kind) -> None:
        self.binder = binder
        self.prefix = f"Invalid {kind.value}: "
        self.names: set[str] = set()
        self.values: set[str] = set()

    def commit(self) -> None:
        self.binder.used_names |= self.names
        self.binder.used_values |= self.values

    def path(self, path: Path) -> Path:
        if not any(isinstance(e, NameRef) for e in path.elements):
            return path
        elements: list[str | int | NameRef] = []
        for element in path.elements:
            if isinstance(element, NameRef):
                name = self.binder.names.get(element.name)
                if name is None:
                    raise ValidationException(
                        self.prefix + "An expression attribute name used in the document path "
                        f"is not defined; attribute name: {element.name}"
                    )
                self.names.add(element.name)
                elements.append(name)
            else:
                elements.append(element)
        return Path(tuple(elements))

    def operand(self, operand: Operand) -> Operand:
        match operand:
            case Path():
                return self.path(operand)
            case ValueRef(name):
                value = self.binder.values.get(name)
                if value is None:
                    raise ValidationException(
                        self.prefix + "An expression attribute value used in expression is not "
                        f"defined; attribute value: {name}"
                    )
                self.values.add(name)
                return Value(value, name)
            case Value():
                return operand
            case Size(inner):
                return Size(self.operand(inner))
            case IfNotExists(path, default):
                return IfNotExists(self.path(path), self.operand(default))
            case ListAppend(first, second):
                return ListAppend(self.operand(first), self.operand(second))
            case Arithmetic(op, left, right):
                return Arithmetic(op, self.operand(left), self.operand(right))
        raise AssertionError(operand)

    def condition(self, condition: Condition) -> Condition:
        match condition:
            case Compare(op, left, right):
                return Compare(op, self.operand(left), self.operand(right))
            case Between(operand, low, high):
                return Between(self.operand(operand), self.operand(low), self.operand(high))
            case In(operand, options):
                return In(self.operand(operand), tuple(self.operand(o) for o in options))
            case Call(name, args):
                return Call(name, tuple(self.operand(a) for a in args))
            case And(items):
                return And(tuple(self.condition(c) for c in items))
            case Or(items):
                return Or(tuple(self.condition(c) for c in items))
            case Not(inner):
                return Not(self.condition(inner))
        raise AssertionError(condition)

    def update(self, update: Update) -> Update:
        return Update(
            set=tuple(SetAction(self.path(a.path), self.operand(a.value)) for a in update.set),
            remove=tuple(RemoveAction(self.path(a.path)) for a in update.remove),
            add=tuple(AddAction(self.path(a.path), self.operand(a.value)) for a in update.add),
            delete=tuple(
                DeleteAction(self.path(a.path), self.operand(a.value)) for a in update.delete
            ),
        )
