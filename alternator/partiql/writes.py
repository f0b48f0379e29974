"""INSERT, UPDATE, DELETE and EXISTS as the item writes that do the same (pure).

INSERT is a PutItem conditional on the key not existing; UPDATE and DELETE are an UpdateItem
and a DeleteItem of the one item the WHERE's key equalities name, its other terms their
condition (an UPDATE also requires the item to exist); EXISTS(SELECT ...) is a transaction's
ConditionCheck.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alternator.errors import ValidationException
from alternator.partiql import ast
from alternator.partiql.render import Writer, check_key_type, conjunction, full_key, resolve
from alternator.schema import TableSchema
from alternator.values import AttributeValue


def insert_request(insert: ast.Insert, table: TableSchema,
                   parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """PutItem of the item unless its key exists (DuplicateItemException then)."""
    item = resolve(insert.item, parameters)
    assert set(item) == {"M"}, "the parser takes only a {...} item"
    for attribute in (table.partition_key, table.sort_key):
        if attribute is None:
            continue
        if attribute.name not in item["M"]:
            raise ValidationException(
                f"Key attribute should be present in the item: Key {attribute.name}")
        check_key_type(attribute.name, item["M"][attribute.name], attribute.type)
    writer = Writer(parameters)
    return {"TableName": insert.table, "Item": item["M"],
            "ConditionExpression": f"attribute_not_exists({writer.name(table.partition_key.name)})",
            **writer.fields()}


def update_request(update: ast.Update, table: TableSchema,
                   parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """UpdateItem of an item that must exist (ConditionalCheckFailedException if not)."""
    key, rest = full_key(update.where, table, parameters)
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
    condition = exists if not rest else f"{exists} AND {writer.condition(conjunction(rest), 1)}"
    req: dict[str, Any] = {"TableName": update.table, "Key": key, "UpdateExpression": text,
                           "ConditionExpression": condition, **writer.fields()}
    if update.returning is not None:
        req["ReturnValues"] = update.returning  # ast.Returning is spelled as ReturnValues
    return req


def delete_request(delete: ast.Delete, table: TableSchema,
                   parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """DeleteItem: of a missing item is a no-op, unless other terms make a condition."""
    key, rest = full_key(delete.where, table, parameters)
    writer = Writer(parameters)
    req: dict[str, Any] = {"TableName": delete.table, "Key": key}
    if rest:
        req["ConditionExpression"] = writer.condition(conjunction(rest))
    if delete.returning is not None:
        req["ReturnValues"] = "ALL_OLD"  # the only one the parser lets through
    req.update(writer.fields())
    return req


def check_request(exists: ast.Exists, table: TableSchema,
                  parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """EXISTS(SELECT ...) in a transaction: a ConditionCheck of the SELECT's item by the
    SELECT's other terms, which DynamoDB requires (they alone are the condition)."""
    select = exists.select
    if select.index is not None:
        raise ValidationException("Operations on indices are not supported in transactions")
    key, rest = full_key(select.where, table, parameters)
    if not rest:
        raise ValidationException(
            "EXISTS() must contain a single item read with additional condition")
    writer = Writer(parameters)
    return {"TableName": select.table, "Key": key,
            "ConditionExpression": writer.condition(conjunction(rest)), **writer.fields()}
