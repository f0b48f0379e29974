"""Reads of the database's own tables through ``.scylla.alternator.KEYSPACE.TABLE``.

As in ScyllaDB's Alternator, Query and Scan with such a table name read that CQL table of a
system keyspace and return its rows as items; GetItem and writes do not accept these names.
``.scylla.alternator.system.clients`` lists the DynamoDB API requests being served right now
(one item each), followed by the backend's CQL clients where it exposes them.

Rows map to items column by column: text-like values (text, inet, uuid, timestamps) become S,
numbers N, booleans BOOL, blobs B, sets SS / NS, lists L, maps M; null columns are left out.
A role's ``salted_hash`` is its secret access key: it is only ever returned to a superuser.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from alternator import expressions as expr
from alternator import fields
from alternator.auth import permissions
from alternator.errors import (
    AccessDeniedException,
    ResourceNotFoundException,
    ValidationException,
)
from alternator.expressions.ast import And, Compare, Value
from alternator.operations import config_table
from alternator.operations.context import RequestContext
from alternator.storage import table_resource
from alternator.values import AttributeValue, Item, format_number, validate_item

PREFIX = ".scylla.alternator."
SYSTEM_KEYSPACES = frozenset({
    "system", "system_auth", "system_schema", "system_distributed", "system_traces",
    "system_views", "system_virtual_schema", "system_distributed_everywhere",
})
# Keyspaces Cassandra lets every role read; the others need SELECT (or a superuser).
READABLE_BY_ALL = frozenset({"system", "system_schema", "system_virtual_schema", "system_views"})
SECRET_COLUMNS = frozenset({"salted_hash"})
PAGING_ATTRIBUTE = ":paging_state"
DEFAULT_PAGE = 1000


def system_table_name(name: str) -> tuple[str, str] | None:
    """(keyspace, table) of a ``.scylla.alternator.KS.TABLE`` name, else None."""
    if not name.startswith(PREFIX):
        return None
    keyspace, _, table = name[len(PREFIX):].partition(".")
    if not keyspace or not table:
        raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
    return keyspace, table


# --- CQL values as attribute values ---------------------------------------------------------------


def to_attribute(value: Any) -> AttributeValue | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": format_number(Decimal(value))}
    if isinstance(value, float):
        return {"N": format_number(Decimal(repr(value)))}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return {"S": value.isoformat()}
    if isinstance(value, dict) or hasattr(value, "items"):
        members = {str(k): to_attribute(v) for k, v in value.items()}
        return {"M": {k: v for k, v in members.items() if v is not None}}
    if isinstance(value, set | frozenset) or type(value).__name__ == "SortedSet":
        converted = [to_attribute(v) for v in value]
        if converted and all(c is not None and "N" in c for c in converted):
            return {"NS": [c["N"] for c in converted if c is not None]}
        if converted and all(c is not None and "S" in c for c in converted):
            return {"SS": [c["S"] for c in converted if c is not None]}
        return {"L": [c for c in converted if c is not None]}
    if isinstance(value, list | tuple):
        return {"L": [c for c in map(to_attribute, value) if c is not None]}
    if isinstance(value, str | uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return {"S": str(value)}
    return {"S": str(value)}


def row_to_item(row: dict[str, Any], show_secrets: bool) -> Item:
    item: Item = {}
    for column, value in row.items():
        if column in SECRET_COLUMNS and not show_secrets:
            continue
        converted = to_attribute(value)
        if converted is not None:
            item[column] = converted
    return item


# --- Query and Scan ------------------------------------------------------------------------------


def _equalities(condition: expr.Condition) -> dict[str, AttributeValue]:
    """``a = :x AND b = :y`` as {a: x, b: y}; anything else is refused."""
    parts: Sequence[expr.Condition] = (
        condition.conditions if isinstance(condition, And) else (condition,))
    out: dict[str, AttributeValue] = {}
    for part in parts:
        if isinstance(part, Compare) and part.op == "=":
            left, right = part.left, part.right
            if isinstance(right, expr.Path):
                left, right = right, left
            if isinstance(left, expr.Path) and isinstance(right, Value):
                elements = left.bound()
                if len(elements) == 1 and isinstance(elements[0], str):
                    out[elements[0]] = right.value
                    continue
        raise ValidationException(
            "Query of a system table supports only equality conditions on its partition key "
            "columns, joined by AND")
    return out


def _paging_state(req: dict[str, Any]) -> bytes | None:
    start = fields.optional_map(req, "ExclusiveStartKey")
    if start is None:
        return None
    token = start.get(PAGING_ATTRIBUTE)
    if not isinstance(token, dict) or "B" not in token or len(start) != 1:
        raise ValidationException("The provided starting key is invalid")
    try:
        return base64.b64decode(token["B"], validate=True)
    except ValueError:
        raise ValidationException("The provided starting key is invalid") from None


async def read(ctx: RequestContext, req: dict[str, Any], keyspace: str, table: str,
               is_query: bool) -> dict[str, Any]:
    name = f"{PREFIX}{keyspace}.{table}"
    if keyspace not in SYSTEM_KEYSPACES:
        raise ResourceNotFoundException(
            f"Requested resource not found: Table: {name} not found (only tables of system "
            "keyspaces can be read this way)")
    if keyspace not in READABLE_BY_ALL:
        ctx.authorize(permissions.SELECT, table_resource(keyspace, table))
    limit = fields.optional_int(req, "Limit")
    if limit is not None and limit < 1:
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1")
    binder = expr.Binder(fields.optional_map(req, "ExpressionAttributeNames"),
                         fields.optional_map(req, "ExpressionAttributeValues"))
    where: Item = {}
    if is_query:
        where = _equalities(binder.filter(fields.require_str(req, "KeyConditionExpression")))
    filter_text = fields.optional_str(req, "FilterExpression")
    filter_ = binder.filter(filter_text) if filter_text is not None else None
    projection_text = fields.optional_str(req, "ProjectionExpression")
    projection = binder.projection(projection_text) if projection_text is not None else None
    binder.finish()
    paging = _paging_state(req)
    show_secrets = ctx.principal is None or ctx.principal.is_superuser

    if (keyspace, table) == ("system", "clients"):
        items = [c.item() for c in ctx.clients()]
        items += await _backend_clients(ctx)
        next_state = None
    elif (keyspace, table) == ("system", "config"):
        items = [i for i in config_table.items(ctx.config.options, _live(ctx))
                 if all(i.get(column) == value for column, value in where.items())]
        next_state = None
    else:
        rows = await ctx.storage.read_system_table(keyspace, table, where, limit or DEFAULT_PAGE,
                                                   paging)
        items = [row_to_item(r, show_secrets) for r in rows.rows]
        next_state = rows.cursor
    scanned = len(items)
    if filter_ is not None:
        items = [i for i in items if expr.evaluate(filter_, i)]
    if projection is not None:
        items = [expr.project(projection, i) for i in items]
    out: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
    if fields.optional_str(req, "Select") != "COUNT":
        out["Items"] = items
    if next_state is not None:
        out["LastEvaluatedKey"] = {
            PAGING_ATTRIBUTE: {"B": base64.b64encode(next_state).decode()}}
    return out


async def _backend_clients(ctx: RequestContext) -> list[Item]:
    """The backend's CQL connections (Cassandra's system_views.clients), where it has them."""
    try:
        rows = await ctx.storage.read_system_table("system_views", "clients", {}, DEFAULT_PAGE,
                                                   None)
    except (ResourceNotFoundException, ValidationException):
        return []
    items = []
    for row in rows.rows:
        item: Item = {"client_type": {"S": "cql"}}
        for column in ("address", "port", "connection_stage", "driver_name", "driver_version",
                       "hostname", "protocol_version", "ssl_enabled", "ssl_protocol",
                       "ssl_cipher_suite", "username"):
            value = to_attribute(row.get(column))
            if value is not None:
                item[column] = value
        items.append(item)
    return items


# --- writes -------------------------------------------------------------------------------------


async def write(ctx: RequestContext, req: dict[str, Any], keyspace: str, table: str,
                delete: bool) -> dict[str, Any]:
    """PutItem / DeleteItem on a system table: only with --alternator-allow-system-table-write,
    and only for a superuser."""
    _check_writable(ctx, keyspace, table)
    for unsupported in ("ConditionExpression", "Expected", "ReturnValues"):
        if req.get(unsupported) not in (None, "NONE"):
            raise ValidationException(f"{unsupported} is not supported on system tables")
    if (keyspace, table) == ("system", "config"):
        if delete:
            raise ValidationException("The options of system.config cannot be deleted")
        _live(ctx).change(*config_table.written_value(
            validate_item(fields.require_map(req, "Item"))))
        return {}
    if delete:
        key = validate_item(fields.require_map(req, "Key"), "Key")
        await ctx.storage.write_system_table(keyspace, table, key, None)
    else:
        item = validate_item(fields.require_map(req, "Item"))
        await ctx.storage.write_system_table(keyspace, table, item, item)
    return {}


def _check_writable(ctx: RequestContext, keyspace: str, table: str) -> None:
    if not ctx.config.allow_system_table_write:
        raise ValidationException(
            "Writes to system tables are disabled: start the server with "
            "--alternator-allow-system-table-write to allow them")
    if keyspace not in SYSTEM_KEYSPACES:
        raise ResourceNotFoundException(
            f"Requested resource not found: Table: {PREFIX}{keyspace}.{table} not found")
    if ctx.principal is not None and not ctx.principal.is_superuser:
        raise AccessDeniedException(
            f"Writing to system table {keyspace}.{table} is allowed only to a superuser; "
            f"role {ctx.principal.name} is not one")


async def update(ctx: RequestContext, req: dict[str, Any], keyspace: str,
                 table: str) -> dict[str, Any]:
    """UpdateItem on a system table: only system.config's ``SET value = :v``, with the checks
    of :func:`write`."""
    if (keyspace, table) != ("system", "config"):
        raise ValidationException("UpdateItem is supported only on system.config among the "
                                  "system tables")
    _check_writable(ctx, keyspace, table)
    for unsupported in ("ConditionExpression", "Expected", "ReturnValues", "AttributeUpdates"):
        if req.get(unsupported) not in (None, "NONE"):
            raise ValidationException(f"{unsupported} is not supported on system tables")
    binder = expr.Binder(fields.optional_map(req, "ExpressionAttributeNames"),
                         fields.optional_map(req, "ExpressionAttributeValues"))
    text = fields.optional_str(req, "UpdateExpression")
    update = binder.update(text) if text is not None else None
    binder.finish()
    key = validate_item(fields.require_map(req, "Key"), "Key")
    _live(ctx).change(*config_table.updated_value(update, key))
    return {}


def _live(ctx: RequestContext) -> config_table.LiveOptions:
    if ctx.live is None:  # (a context made outside the server: nothing changes at run time)
        raise ValidationException("This server has no run-time options")
    return ctx.live
