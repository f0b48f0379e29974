"""BatchExecuteStatement and ExecuteTransaction (docs/partiql.md).

A batch runs each statement on its own, through GetItem or the write's own operation, and
answers each with its result or its Error; a transaction hands all its statements to
TransactWriteItems or TransactGetItems, which run them atomically.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson

from alternator import fields, partiql
from alternator.errors import (
    ConditionalCheckFailedException,
    DynamoDBError,
    TransactionCanceledException,
    ValidationException,
)
from alternator.operations import capacity, items, transactions
from alternator.operations.context import RequestContext
from alternator.operations.partiql import (
    Write,
    compile_write,
    merge_capacity,
    pass_fields,
    run_write,
    statement_of,
    user_table,
)
from alternator.partiql import ast
from alternator.values import AttributeValue

MAX_BATCH = 25
MAX_TRANSACTION = 100
DUPLICATE = {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
# BatchStatementError codes (API_BatchStatementError) of the errors a statement can meet.
_BATCH_CODES = {"ValidationException": "ValidationError", "SerializationException": "ValidationError",
                "ThrottlingException": "ThrottlingError"}

Parsed = tuple[ast.Statement, list[AttributeValue]]


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


async def batch_execute_statement(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = _entries(req, "statements", MAX_BATCH)
    mode = capacity.return_mode(req)
    parsed: list[Parsed | DynamoDBError] = []
    for entry in entries:
        try:
            parsed.append(statement_of(entry))
        except DynamoDBError as error:
            parsed.append(error)
    if len({ast.is_read(p[0]) for p in parsed if isinstance(p, tuple)}) > 1:
        raise ValidationException(
            "Read and write requests together in the same batch is not supported.")
    extra = {"ReturnConsumedCapacity": mode} if mode != "NONE" else {}
    # First every statement is translated (its errors answer it alone, with no TableName),
    # then the writes' keys must all differ, then they run.
    compiled: list[partiql.PointRead | Write | DynamoDBError] = []
    for one in parsed:
        try:
            compiled.append(one if isinstance(one, DynamoDBError) else await _compile(ctx, *one))
        except DynamoDBError as error:
            compiled.append(error)
    keys = [(w.table.name, orjson.dumps(w.key, option=orjson.OPT_SORT_KEYS))
            for w in compiled if isinstance(w, Write)]
    if len(set(keys)) != len(keys):
        raise ValidationException("Provided list of item keys contains duplicates")

    async def run(entry: dict[str, Any], one: partiql.PointRead | Write | DynamoDBError
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
        if isinstance(one, DynamoDBError):
            return {"Error": _batch_error(one)}, {}
        name = one.table if isinstance(one, partiql.PointRead) else one.table.name
        try:
            return await _run(ctx, entry, one, extra)
        except DynamoDBError as error:
            return {"TableName": name, "Error": _batch_error(error)}, {}

    results = await asyncio.gather(*(run(e, c) for e, c in zip(entries, compiled, strict=True)))
    out: dict[str, Any] = {"Responses": [response for response, _ in results]}
    if mode != "NONE":
        out["ConsumedCapacity"] = merge_capacity([used for _, used in results])
    return out


async def _compile(ctx: RequestContext, statement: ast.Statement,
                   parameters: Sequence[AttributeValue]) -> partiql.PointRead | Write:
    if isinstance(statement, ast.Exists):
        raise ValidationException("EXISTS can only be used in ExecuteTransaction write requests.")
    if isinstance(statement, ast.Select):
        table = await user_table(ctx, statement.table)
        return partiql.point_read(statement, table, parameters, transaction=False)
    return await compile_write(ctx, statement, parameters)


async def _run(ctx: RequestContext, entry: dict[str, Any], one: partiql.PointRead | Write,
               extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the BatchStatementResponse, the inner response for its capacity) of one statement."""
    if isinstance(one, partiql.PointRead):
        result = await items.get_item(ctx, {"TableName": one.table, "Key": one.key, **extra,
                                            **pass_fields(entry, "ConsistentRead")})
        response: dict[str, Any] = {"TableName": one.table}
        item = one.apply(result.get("Item"))
        if item is not None:
            response["Item"] = item
        return response, result
    result = await run_write(ctx, one, {
        **extra, **pass_fields(entry, "ReturnValuesOnConditionCheckFailure")})
    response = {"TableName": one.table.name}
    if result["Items"]:
        response["Item"] = result["Items"][0]  # what RETURNING asked for
    return response, result


# --- ExecuteTransaction -------------------------------------------------------------------------


async def execute_transaction(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = _entries(req, "transactStatements", MAX_TRANSACTION)
    mode = capacity.return_mode(req)
    parsed = [statement_of(entry) for entry in entries]
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
        on_failure = pass_fields(entry, "ReturnValuesOnConditionCheckFailure")
        if isinstance(statement, ast.Exists):
            table = await user_table(ctx, statement.select.table)
            actions.append({"ConditionCheck": {
                **partiql.check_request(statement, table, parameters), **on_failure}})
            continue
        if getattr(statement, "returning", None) is not None:
            raise ValidationException("RETURNING is not supported in ExecuteTransaction")
        write = await compile_write(ctx, statement, parameters)
        if write.operation == "Put":
            inserts.add(position)
            on_failure = {}  # its condition failing is a duplicate key, with no item to show
        actions.append({write.operation: {**write.request, **on_failure}})
    inner: dict[str, Any] = {"TransactItems": actions, **extra,
                             **pass_fields(req, "ClientRequestToken")}
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
        table = await user_table(ctx, statement.table)
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
