"""PutItem, GetItem, DeleteItem."""

from __future__ import annotations

from typing import Any

from alternator import fields
from alternator.errors import ConditionalCheckFailedException, ValidationException
from alternator.operations import rmw
from alternator.operations.context import RequestContext, table_for
from alternator.operations.requests import Condition, ReadProjection
from alternator.schema import item_key, parse_key
from alternator.values import Item, validate_item

_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


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


def checked(condition: Condition | None, on_failure_old: bool,
            step: rmw.Apply) -> rmw.Apply:
    """Wrap a write step with the request's condition, evaluated on the current item."""
    if condition is None:
        return step

    def apply(old: Item | None) -> Item | None:
        if not condition.holds(old):
            raise ConditionalCheckFailedException(
                item=old if (on_failure_old and old is not None) else None
            )
        return step(old)

    return apply


async def put_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    table = await table_for(ctx, req)
    item = validate_item(fields.require_map(req, "Item"))
    key = item_key(table, item)
    returns = return_values(req, ("NONE", "ALL_OLD"))
    condition = Condition.from_request(req, table)
    step = checked(condition, return_old_on_failure(req), lambda _old: item)
    needs_read = condition is not None or returns == "ALL_OLD"
    result = await rmw.write(ctx.storage, ctx.config, table, key, step, needs_read)
    if returns == "ALL_OLD" and result.old is not None:
        return {"Attributes": result.old}
    return {}


async def get_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    table = await table_for(ctx, req)
    key = parse_key(table, fields.require_map(req, "Key"))
    consistent = bool(fields.optional_bool(req, "ConsistentRead"))
    projection = ReadProjection.from_request(req)
    item = await ctx.storage.get_item(table, key, consistent)
    if item is None:
        return {}
    return {"Item": projection.apply(item)}


async def delete_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    table = await table_for(ctx, req)
    key = parse_key(table, fields.require_map(req, "Key"))
    returns = return_values(req, ("NONE", "ALL_OLD"))
    condition = Condition.from_request(req, table)
    step = checked(condition, return_old_on_failure(req), lambda _old: None)
    needs_read = condition is not None or returns == "ALL_OLD"
    result = await rmw.write(ctx.storage, ctx.config, table, key, step, needs_read)
    if returns == "ALL_OLD" and result.old is not None:
        return {"Attributes": result.old}
    return {}
