"""PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from typing import Any

from alternator import expressions as expr
from alternator import fields
from alternator.auth import permissions
from alternator.config import WriteIsolation
from alternator.errors import ConditionalCheckFailedException, ValidationException
from alternator.metrics import usage
from alternator.operations import capacity, system_tables, write_path
from alternator.operations.context import RequestContext, table_for
from alternator.operations.requests import (
    ItemExpressions,
    read_expressions,
    update_expressions,
    write_expressions,
)
from alternator.operations.system_tables import system_table_name
from alternator.schema import TableSchema, item_key, parse_key
from alternator.storage import Merge
from alternator.values import Item, item_size, validate_item

_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
MAX_ITEM_BYTES = 400 * 1024


def check_size(item: Item, message: str) -> Item:
    if item_size(item) > MAX_ITEM_BYTES:
        raise ValidationException(message)
    return item


def return_values(req: dict[str, Any], allowed: tuple[str, ...]) -> str:
    value = fields.optional_str(req, "ReturnValues") or "NONE"
    if value not in _RETURN_VALUES:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at 'returnValues' failed to satisfy "
            "constraint: Member must satisfy enum value set: [" + ", ".join(_RETURN_VALUES) + "]"
        )
    if value not in allowed:
        raise ValidationException("Return values set to invalid value")
    return value


def return_old_on_failure(req: dict[str, Any]) -> bool:
    value = fields.optional_enum(req, "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"))
    return value == "ALL_OLD"


def checked(expressions: ItemExpressions, on_failure_old: bool, step: write_path.Apply) -> write_path.Apply:
    """Wrap a write step with the request's condition, evaluated on the current item."""
    if expressions.condition is None:
        return step

    def apply(old: Item | None) -> Item | None:
        if not expressions.holds(old):
            raise ConditionalCheckFailedException(
                item=old if (on_failure_old and old is not None) else None
            )
        return step(old)

    return apply


async def put_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    system = system_table_name(fields.require_str(req, "TableName"))
    if system is not None:
        return await system_tables.write(ctx, req, *system, delete=False)
    table = await table_for(ctx, req, permissions.MODIFY)
    item = validate_item(fields.require_map(req, "Item"))
    key = item_key(table, item)
    check_size(item, "Item size has exceeded the maximum allowed size")
    return await _replace(ctx, req, table, key, item)


async def get_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    table = await table_for(ctx, req, permissions.SELECT)
    key = parse_key(table, fields.require_map(req, "Key"))
    consistent = bool(fields.optional_bool(req, "ConsistentRead"))
    mode = capacity.return_mode(req)
    expressions = read_expressions(req)
    item = await ctx.storage.get_item(table, key, consistent)
    out: dict[str, Any] = {} if item is None else {"Item": expressions.project(item)}
    # A missing item costs what an empty one does (the minimum unit).
    size = item_size(item) if item is not None else 0
    units = capacity.read_units(size, consistent)
    counted = usage.of(table.name)
    counted.read_units(units)
    counted.item_bytes += size
    used = capacity.consumed(table.name, units, mode, "read")
    if used is not None:
        out["ConsumedCapacity"] = used
    return out


async def delete_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    system = system_table_name(fields.require_str(req, "TableName"))
    if system is not None:
        return await system_tables.write(ctx, req, *system, delete=True)
    table = await table_for(ctx, req, permissions.MODIFY)
    key = parse_key(table, fields.require_map(req, "Key"))
    return await _replace(ctx, req, table, key, None)


async def _replace(ctx: RequestContext, req: dict[str, Any], table: TableSchema, key: Item,
                   item: Item | None) -> dict[str, Any]:
    """PutItem (``item``) or DeleteItem (None): replace the whole item, maybe conditionally."""
    returns = return_values(req, ("NONE", "ALL_OLD"))
    mode = capacity.return_mode(req)
    expressions = write_expressions(req)
    step = checked(expressions, return_old_on_failure(req), lambda _old: item)
    needs_read = expressions.condition is not None or returns == "ALL_OLD"
    blind = None if needs_read else write_path.Blind(item)
    exists = write_path.existence_guard(expressions.condition, table)
    # (Capacity is charged by the larger of the old and new item: only an unread write that
    # reports none may skip the read.)
    guard = write_path.Guard(exists, item) if exists is not None and returns == "NONE" \
        and mode == "NONE" and (exists or item is not None) else None
    result = await write_path.commit(ctx.storage, ctx.config, table, key, step, blind, guard)
    out: dict[str, Any] = {}
    if returns == "ALL_OLD" and result.old_item is not None:
        out["Attributes"] = result.old_item
    return _with_write_capacity(out, table, mode, result.old_item, item,
                                "PutItem" if item is not None else "DeleteItem")


async def update_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    system = system_table_name(fields.require_str(req, "TableName"))
    if system is not None:
        return await system_tables.update(ctx, req, *system)
    table = await table_for(ctx, req, permissions.MODIFY)
    key = parse_key(table, fields.require_map(req, "Key"))
    returns = return_values(req, _RETURN_VALUES)
    mode = capacity.return_mode(req)
    expressions = update_expressions(req, table)
    update = expressions.update
    removes_only = _removes_only(update)
    step = update_step(update, key)
    blind = None
    created: Item | None = None
    if (expressions.condition is None and returns in ("NONE", "UPDATED_NEW")
            and (update is None or not update.needs_read)
            and (not removes_only or write_path.isolation_policy(table, ctx.config)
                 is WriteIsolation.FORBID_RMW)):
        # (Under forbid_rmw a remove-only update stays a blind write, which creates the item.)
        # What the update writes without reading: checked (size) before anything is written.
        created = step(None) or dict(key)
        blind = _merge_of(update, table, created)
    guard = None
    exists = write_path.existence_guard(expressions.condition, table)
    if (exists is not None and returns in ("NONE", "UPDATED_NEW") and mode == "NONE"
            and (update is None or not update.needs_read) and (exists or not removes_only)):
        # A condition on existence only, an update that reads nothing: maybe one round trip.
        created = step(None) or dict(key)
        guard = write_path.Guard(exists, _merge_of(update, table, created).new)
    result = await write_path.commit(ctx.storage, ctx.config, table, key,
                                     checked(expressions, return_old_on_failure(req), step),
                                     blind, guard)
    new = created if isinstance(result.new, write_path.NotRead) else result.new_item
    out = _update_response(returns, update, result.old_item, new)
    return _with_write_capacity(out, table, mode, result.old_item, new, "UpdateItem")


def _removes_only(update: expr.Update | None) -> bool:
    """An update that only removes (REMOVE, DELETE) creates no item where there is none, while
    an empty one does: tests/test_update_missing_item.py."""
    return update is not None and not (update.set or update.add) and bool(
        update.remove or update.delete)


def update_step(update: expr.Update | None, key: Item) -> write_path.Apply:
    """What UpdateItem (or a transaction's Update) does to the item as it is."""
    removes_only = _removes_only(update)

    def step(old: Item | None) -> Item | None:
        if old is None and removes_only:
            return None
        new = expr.apply_update(update, old) if update is not None else dict(old or {})
        new.update(key)  # an update never changes the key; a new item gets it
        return check_size(new, "Item size to update has exceeded the maximum allowed size")

    return step


def _with_write_capacity(out: dict[str, Any], table: TableSchema, mode: capacity.Mode,
                         old: Item | None, new: Item | None, operation: str) -> dict[str, Any]:
    """DynamoDB charges a write by the larger of the item before and after it (when known);
    the units are counted in the metrics whatever ReturnConsumedCapacity asks."""
    size = max(item_size(old) if old else 0, item_size(new) if new else 0)
    units = capacity.write_units(size)
    index_units = capacity.index_write_units(table, old, new) if table.indexes else {}
    counted = usage.of(table.name)
    counted.write_units(operation, units)
    counted.wcu_index += sum(index_units.values())
    counted.item_bytes += size
    if mode != "NONE":
        out["ConsumedCapacity"] = capacity.consumed(table.name, units, mode, "write",
                                                    index_units)
        if mode == "INDEXES" and table.vector_indexes:
            capacity.add_vector_bytes(out["ConsumedCapacity"],
                                      capacity.vector_write_bytes(table, old, new))
    return out


def _merge_of(update: expr.Update | None, table: TableSchema,
              created: Item) -> write_path.Blind:
    """An update that reads nothing, as top-level attributes to set and remove."""
    if update is None:
        return write_path.Blind(Merge({}, ()))
    set_attributes = {name: value for name, value in created.items()
                      if name not in table.key_names}
    removed = tuple(str(a.path.bound()[0]) for a in update.remove)
    return write_path.Blind(Merge(set_attributes, removed))


def _update_response(returns: str, update: expr.Update | None, old: Item | None,
                     new: Item | None) -> dict[str, Any]:
    """The Attributes ReturnValues asks for (a blind update's ``new`` is what it set)."""
    attributes: Item | None = None
    if returns == "ALL_OLD":
        attributes = old
    elif returns == "ALL_NEW":
        attributes = new
    elif returns in ("UPDATED_OLD", "UPDATED_NEW") and update is not None:
        attributes = expr.returned_attributes(update, old if returns == "UPDATED_OLD" else new)
    if attributes:
        return {"Attributes": attributes}
    return {}
