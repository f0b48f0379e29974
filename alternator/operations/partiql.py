"""ExecuteStatement (docs/partiql.md); partiql_batch.py has BatchExecuteStatement and
ExecuteTransaction.

Each statement is parsed and translated (``alternator.partiql``, pure) into the request of the
operation DynamoDB runs for it, and that operation's own handler runs it: Query, Scan, GetItem,
PutItem, UpdateItem, DeleteItem, TransactWriteItems or TransactGetItems. So permissions, write
isolation, indexes, streams, TTL, capacity and system tables behave exactly as they do there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from alternator import fields, partiql
from alternator.errors import (
    ConditionalCheckFailedException,
    DuplicateItemException,
    ValidationException,
)
from alternator.operations import capacity, items, query
from alternator.operations.context import RequestContext, named_table
from alternator.operations.system_tables import system_table_name
from alternator.partiql import ast
from alternator.schema import TableSchema, item_key
from alternator.values import AttributeValue, Item, item_size, validate_value

# --- request fields -----------------------------------------------------------------------------


def _parameters(req: fields.Request) -> list[AttributeValue]:
    raw = fields.optional_list(req, "Parameters")
    if raw is None:
        return []
    if not raw:
        raise ValidationException(
            "1 validation error detected: Value '[]' at 'parameters' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1")
    return [validate_value(value) for value in raw]


def statement_of(req: fields.Request) -> tuple[ast.Statement, list[AttributeValue]]:
    """The parsed statement of a request (or batch entry) and its parameters."""
    text = fields.require_str(req, "Statement")
    if not text:
        raise ValidationException(
            "1 validation error detected: Value '' at 'statement' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1")
    fields.optional_enum(req, "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"))
    statement = partiql.parse(text)
    parameters = _parameters(req)
    if partiql.count_parameters(statement) != len(parameters):
        raise ValidationException("Number of parameters in request and statement don't match.")
    return statement, parameters


def _digest(req: fields.Request) -> str:
    """What a NextToken is bound to: the statement and its parameters."""
    text = orjson.dumps([req.get("Statement"), req.get("Parameters")],
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()[:16]


def _encode_token(req: fields.Request, partition: int, key: dict[str, Any] | None) -> str:
    token = {"s": _digest(req), "i": partition, "k": key}
    return base64.urlsafe_b64encode(orjson.dumps(token)).decode()


def _decode_token(req: fields.Request, token: str) -> tuple[int, dict[str, Any] | None]:
    """(the partition to go on with, the key to start after) of a NextToken."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        decoded = None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("i"), int) or \
            not isinstance(decoded.get("k"), dict | None):
        raise ValidationException("The provided NextToken is not valid")
    if decoded.get("s") != _digest(req):
        raise ValidationException(
            "The provided NextToken was returned for a different statement or parameters")
    return decoded["i"], decoded["k"]


async def _schema(ctx: RequestContext, name: str) -> TableSchema | None:
    """The table a statement names; None for a system table (``.scylla.alternator.*``)."""
    if system_table_name(name) is not None:
        return None
    return await named_table(ctx, name, None)


async def user_table(ctx: RequestContext, name: str) -> TableSchema:
    table = await _schema(ctx, name)
    if table is None:
        raise ValidationException(
            "System tables can only be read by SELECT statements of ExecuteStatement")
    return table


def pass_fields(req: fields.Request, *names: str) -> dict[str, Any]:
    return {name: req[name] for name in names if req.get(name) is not None}


def merge_capacity(outs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ConsumedCapacity of the statements, summed per table."""
    merged: dict[str, dict[str, Any]] = {}

    def add(into: dict[str, Any], part: dict[str, Any]) -> None:
        for name, value in part.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                into[name] = into.get(name, 0.0) + value
            elif isinstance(value, dict):
                add(into.setdefault(name, {}), value)
            else:
                into[name] = value

    for out in outs:
        used = out.get("ConsumedCapacity")
        if isinstance(used, dict):
            add(merged.setdefault(str(used.get("TableName")), {}), used)
    return list(merged.values())


# --- ExecuteStatement ---------------------------------------------------------------------------


async def execute_statement(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    statement, parameters = statement_of(req)
    capacity.return_mode(req)
    if isinstance(statement, ast.Exists):
        raise ValidationException("EXISTS can only be used in ExecuteTransaction write requests.")
    if isinstance(statement, ast.Select):
        return await _select(ctx, req, statement, parameters)
    write = await compile_write(ctx, statement, parameters)
    return await run_write(ctx, write, pass_fields(
        req, "ReturnConsumedCapacity", "ReturnValuesOnConditionCheckFailure"))


async def _select(ctx: RequestContext, req: dict[str, Any], select: ast.Select,
                  parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """A page of a SELECT: of its Scan, or of its Queries run one partition after another
    (Limit and the 1 MB page count across them)."""
    limit = fields.optional_int(req, "Limit")
    fields.optional_bool(req, "ConsistentRead")
    token = fields.optional_str(req, "NextToken")
    partition, start = _decode_token(req, token) if token is not None else (0, None)
    table = await _schema(ctx, select.table)
    plan = partiql.select_request(select, table, parameters)
    handler = query.query if plan.operation == "Query" else query.scan
    if not 0 <= partition < len(plan.requests):
        raise ValidationException("The provided NextToken is not valid")
    found: list[Item] = []
    results: list[dict[str, Any]] = []
    read = size = 0
    next_token: str | None = None
    last_key: Item | None = None
    while True:
        inner = {**plan.requests[partition],
                 **pass_fields(req, "ConsistentRead", "ReturnConsumedCapacity")}
        if limit is not None:
            inner["Limit"] = limit - read
        if start is not None:
            inner["ExclusiveStartKey"] = start
        result = await handler(ctx, inner)
        results.append(result)
        page = result.get("Items", [])
        if plan.residual is not None:
            page = [kept for kept in map(plan.residual.apply, page) if kept is not None]
        found += page
        read += int(result.get("ScannedCount", 0))
        size += sum(item_size(i) for i in page)
        if result.get("LastEvaluatedKey") is not None:
            last_key = result["LastEvaluatedKey"]
            next_token = _encode_token(req, partition, last_key)
            break
        partition += 1
        start = None
        if partition == len(plan.requests):
            break
        if read == limit or size >= query.MAX_PAGE_BYTES:
            next_token = _encode_token(req, partition, None)
            break
    out: dict[str, Any] = {"Items": found}
    if next_token is not None:
        out["NextToken"] = next_token
    if last_key is not None:
        out["LastEvaluatedKey"] = last_key
    used = merge_capacity(results)
    if used:
        out["ConsumedCapacity"] = used[0]
    return out


@dataclass(frozen=True, slots=True)
class Write:
    """An INSERT, UPDATE or DELETE as the PutItem, UpdateItem or DeleteItem that runs it."""

    table: TableSchema
    operation: Literal["Put", "Update", "Delete"]
    request: dict[str, Any]

    @property
    def key(self) -> Item:
        if self.operation == "Put":
            return item_key(self.table, self.request["Item"])
        return dict(self.request["Key"])


async def compile_write(ctx: RequestContext, statement: ast.Statement,
                        parameters: Sequence[AttributeValue]) -> Write:
    assert isinstance(statement, ast.Insert | ast.Update | ast.Delete)
    table = await user_table(ctx, statement.table)
    if isinstance(statement, ast.Insert):
        return Write(table, "Put", partiql.insert_request(statement, table, parameters))
    if isinstance(statement, ast.Update):
        return Write(table, "Update", partiql.update_request(statement, table, parameters))
    return Write(table, "Delete", partiql.delete_request(statement, table, parameters))


async def run_write(ctx: RequestContext, write: Write, extra: dict[str, Any]) -> dict[str, Any]:
    """Run a write through its operation's handler; the ExecuteStatement response."""
    if write.operation == "Put":
        # (ReturnValuesOnConditionCheckFailure does not apply: the failure is a duplicate.)
        inner = {**write.request, **pass_fields(extra, "ReturnConsumedCapacity")}
        try:
            result = await items.put_item(ctx, inner)
        except ConditionalCheckFailedException:
            raise DuplicateItemException() from None
    elif write.operation == "Update":
        result = await items.update_item(ctx, {**write.request, **extra})
    else:
        result = await items.delete_item(ctx, {**write.request, **extra})
    out: dict[str, Any] = {"Items": [result["Attributes"]] if result.get("Attributes") else []}
    if result.get("ConsumedCapacity") is not None:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return out
