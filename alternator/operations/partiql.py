"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction (docs/partiql.md).

Each statement is parsed and translated (``alternator.partiql``, pure) into the request of the
operation DynamoDB runs for it, and that operation's own handler runs it: Query, Scan, GetItem,
PutItem, UpdateItem, DeleteItem, TransactWriteItems or TransactGetItems. So permissions, write
isolation, indexes, streams, TTL, capacity and system tables behave exactly as they do there.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

from alternator import fields, partiql
from alternator.errors import (
    ConditionalCheckFailedException,
    DuplicateItemException,
    DynamoDBError,
    TransactionCanceledException,
    ValidationException,
)
from alternator.operations import capacity, items, query, transactions
from alternator.operations.context import RequestContext, named_table
from alternator.operations.system_tables import system_table_name
from alternator.partiql import ast
from alternator.schema import TableSchema
from alternator.values import AttributeValue, Item, item_size, validate_value

MAX_BATCH = 25
MAX_TRANSACTION = 100
DUPLICATE = {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
# BatchStatementError codes (API_BatchStatementError) of the errors a statement can meet.
_BATCH_CODES = {"ValidationException": "ValidationError", "ThrottlingException": "ThrottlingError"}


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


def _statement(req: fields.Request) -> tuple[ast.Statement, list[AttributeValue]]:
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


async def _user_table(ctx: RequestContext, name: str) -> TableSchema:
    table = await _schema(ctx, name)
    if table is None:
        raise ValidationException(
            "System tables can only be read by SELECT statements of ExecuteStatement")
    return table


def _pass(req: fields.Request, *names: str) -> dict[str, Any]:
    return {name: req[name] for name in names if req.get(name) is not None}


# --- ExecuteStatement ---------------------------------------------------------------------------


async def execute_statement(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    statement, parameters = _statement(req)
    capacity.return_mode(req)
    if isinstance(statement, ast.Exists):
        raise ValidationException("EXISTS can only be used in ExecuteTransaction write requests.")
    if isinstance(statement, ast.Select):
        return await _select(ctx, req, statement, parameters)
    _, out = await _write(ctx, statement, parameters,
                          _pass(req, "ReturnConsumedCapacity",
                                "ReturnValuesOnConditionCheckFailure"))
    return out


async def _select(ctx: RequestContext, req: dict[str, Any], select: ast.Select,
                  parameters: Sequence[AttributeValue]) -> dict[str, Any]:
    """A page of a SELECT: of its Scan, or of its Queries run one partition after another
    (Limit and the 1 MB page count across them)."""
    table = await _schema(ctx, select.table)
    plan = partiql.select_request(select, table, parameters)
    handler = query.query if plan.operation == "Query" else query.scan
    limit = fields.optional_int(req, "Limit")
    token = fields.optional_str(req, "NextToken")
    partition, start = _decode_token(req, token) if token is not None else (0, None)
    if not 0 <= partition < len(plan.requests):
        raise ValidationException("The provided NextToken is not valid")
    found: list[Item] = []
    results: list[dict[str, Any]] = []
    read = size = 0
    next_token: str | None = None
    while True:
        inner = {**plan.requests[partition],
                 **_pass(req, "ConsistentRead", "ReturnConsumedCapacity")}
        if limit is not None:
            inner["Limit"] = limit - read
        if start is not None:
            inner["ExclusiveStartKey"] = start
        result = await handler(ctx, inner)
        results.append(result)
        items = result.get("Items", [])
        if plan.residual is not None:
            items = [kept for kept in map(plan.residual.apply, items) if kept is not None]
        found += items
        read += int(result.get("ScannedCount", 0))
        size += sum(item_size(i) for i in items)
        if result.get("LastEvaluatedKey") is not None:
            next_token = _encode_token(req, partition, result["LastEvaluatedKey"])
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
    used = _merge_capacity(results)
    if used:
        out["ConsumedCapacity"] = used[0]
    return out


async def _write(ctx: RequestContext, statement: ast.Statement,
                 parameters: Sequence[AttributeValue],
                 extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Run an INSERT, UPDATE or DELETE; (its table's name, the ExecuteStatement response)."""
    assert isinstance(statement, ast.Insert | ast.Update | ast.Delete)
    table = await _user_table(ctx, statement.table)
    if isinstance(statement, ast.Insert):
        inner = partiql.insert_request(statement, table, parameters)
        inner.update(_pass(extra, "ReturnConsumedCapacity"))
        try:
            result = await items.put_item(ctx, inner)
        except ConditionalCheckFailedException:
            raise DuplicateItemException() from None
    elif isinstance(statement, ast.Update):
        inner = partiql.update_request(statement, table, parameters)
        inner.update(extra)
        result = await items.update_item(ctx, inner)
    else:
        inner = partiql.delete_request(statement, table, parameters)
        inner.update(extra)
        result = await items.delete_item(ctx, inner)
    out: dict[str, Any] = {"Items": [result["Attributes"]] if result.get("Attributes") else []}
    if result.get("ConsumedCapacity") is not None:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return table.name, out


# --- BatchExecuteStatement ----------------------------------------------------------------------


def _batch_error(error: DynamoDBError) -> dict[str, Any]:
    code = _BATCH_CODES.get(error.code, error.code.removesuffix("Exception"))
    out: dict[str, Any] = {"Code": code, "Message": error.message}
    if isinstance(error, ConditionalCheckFailedException) and error.item is not None:
        out["Item"] = error.item
    return out


def _count(entries: list[Any], member: str, most: int) -> None:
    if not entries:
        raise ValidationException(
            f"1 validation error detected: Value '[]' at '{member}' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1")
    if len(entries) > most:
        raise ValidationException(
            f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {most}")


def _entries(req: dict[str, Any], member: str, most: int) -> list[dict[str, Any]]:
    raw = fields.require_list(req, member[:1].upper() + member[1:])
    _count(raw, member, most)
    if not all(isinstance(entry, dict) for entry in raw):
        raise fields.wrong_type(member[:1].upper() + member[1:], "a list of maps")
    return raw


def _merge_capacity(outs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
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


async def batch_execute_statement(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = _entries(req, "statements", MAX_BATCH)
    mode = capacity.return_mode(req)
    parsed: list[tuple[ast.Statement, list[AttributeValue]] | DynamoDBError] = []
    for entry in entries:
        try:
            parsed.append(_statement(entry))
        except DynamoDBError as error:
            parsed.append(error)
    kinds = {ast.is_read(p[0]) for p in parsed if isinstance(p, tuple)}
    if len(kinds) > 1:
        raise ValidationException(
            "Read and write requests together in the same batch is not supported.")
    extra = {"ReturnConsumedCapacity": mode} if mode != "NONE" else {}

    async def run(entry: dict[str, Any],
                  one: tuple[ast.Statement, list[AttributeValue]] | DynamoDBError
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
        if isinstance(one, DynamoDBError):
            return {"Error": _batch_error(one)}, {}
        statement, parameters = one
        name = getattr(statement, "table", None) or getattr(
            getattr(statement, "select", None), "table", None)
        try:
            return await _batch_one(ctx, entry, statement, parameters, extra)
        except DynamoDBError as error:
            response: dict[str, Any] = {"Error": _batch_error(error)}
            if name is not None:
                response["TableName"] = name
            return response, {}

    results = await asyncio.gather(*(run(e, p) for e, p in zip(entries, parsed, strict=True)))
    out: dict[str, Any] = {"Responses": [response for response, _ in results]}
    if mode != "NONE":
        out["ConsumedCapacity"] = _merge_capacity([used for _, used in results])
    return out


async def _batch_one(ctx: RequestContext, entry: dict[str, Any], statement: ast.Statement,
                     parameters: Sequence[AttributeValue], extra: dict[str, Any]
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the BatchStatementResponse, the inner response for its capacity) of one statement."""
    if isinstance(statement, ast.Exists):
        raise ValidationException("EXISTS can only be used in ExecuteTransaction write requests.")
    if isinstance(statement, ast.Select):
        table = await _user_table(ctx, statement.table)
        read = partiql.point_read(statement, table, parameters, transaction=False)
        inner = {"TableName": read.table, "Key": read.key, **extra,
                 **_pass(entry, "ConsistentRead")}
        result = await items.get_item(ctx, inner)
        item = read.apply(result.get("Item"))
        response: dict[str, Any] = {"TableName": table.name}
        if item is not None:
            response["Item"] = item
        return response, result
    if getattr(statement, "returning", None) is not None:
        raise ValidationException("RETURNING is not supported in BatchExecuteStatement")
    name, result = await _write(ctx, statement, parameters,
                                {**extra, **_pass(entry, "ReturnValuesOnConditionCheckFailure")})
    return {"TableName": name}, result


# --- ExecuteTransaction -------------------------------------------------------------------------


async def execute_transaction(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = _entries(req, "transactStatements", MAX_TRANSACTION)
    mode = capacity.return_mode(req)
    parsed = [_statement(entry) for entry in entries]
    if len({ast.is_read(statement) for statement, _ in parsed}) > 1:
        raise ValidationException("ExecuteTransaction API does not support both read and "
                                  "write operations in the same request.")
    extra = {"ReturnConsumedCapacity": mode} if mode != "NONE" else {}
    if ast.is_read(parsed[0][0]):
        return await _read_transaction(ctx, parsed, extra)
    actions: list[dict[str, Any]] = []
    inserts: set[int] = set()
    for position, (entry, (statement, parameters)) in enumerate(
            zip(entries, parsed, strict=True)):
        on_failure = _pass(entry, "ReturnValuesOnConditionCheckFailure")
        if isinstance(statement, ast.Exists):
            table = await _user_table(ctx, statement.select.table)
            actions.append({"ConditionCheck": {
                **partiql.check_request(statement, table, parameters), **on_failure}})
            continue
        assert isinstance(statement, ast.Insert | ast.Update | ast.Delete)
        if getattr(statement, "returning", None) is not None:
            raise ValidationException("RETURNING is not supported in ExecuteTransaction")
        table = await _user_table(ctx, statement.table)
        if isinstance(statement, ast.Insert):
            inserts.add(position)
            actions.append({"Put": partiql.insert_request(statement, table, parameters)})
        elif isinstance(statement, ast.Update):
            actions.append({"Update": {
                **partiql.update_request(statement, table, parameters), **on_failure}})
        else:
            actions.append({"Delete": {
                **partiql.delete_request(statement, table, parameters), **on_failure}})
    inner: dict[str, Any] = {"TransactItems": actions, **extra,
                             **_pass(req, "ClientRequestToken")}
    try:
        result = await transactions.transact_write_items(ctx, inner)
    except TransactionCanceledException as cancelled:
        # An INSERT's key-must-not-exist condition failing is a duplicate key.
        reasons = [DUPLICATE if i in inserts and r.get("Code") == "ConditionalCheckFailed"
                   else r for i, r in enumerate(cancelled.reasons)]
        raise TransactionCanceledException(reasons) from None
    return result


async def _read_transaction(ctx: RequestContext,
                            parsed: Sequence[tuple[ast.Statement, list[AttributeValue]]],
                            extra: dict[str, Any]) -> dict[str, Any]:
    reads = []
    for statement, parameters in parsed:
        assert isinstance(statement, ast.Select)
        table = await _user_table(ctx, statement.table)
        reads.append(partiql.point_read(statement, table, parameters, transaction=True))
    result = await transactions.transact_get_items(ctx, {
        "TransactItems": [{"Get": {"TableName": r.table, "Key": r.key}} for r in reads],
        **extra})
    responses = []
    for read, response in zip(reads, result["Responses"], strict=True):
        item = read.apply(response.get("Item"))
        responses.append({} if item is None else {"Item": item})
    out: dict[str, Any] = {"Responses": responses}
    if result.get("ConsumedCapacity") is not None:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return out
