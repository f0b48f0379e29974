"""TransactWriteItems and TransactGetItems (docs/transactions.md).

Each action is validated and compiled here as its single-item operation would be, then the
backend runs them all at once (``Storage.transact``, ``Storage.read_together``), atomically and
isolated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from alternator import fields
from alternator.auth import permissions
from alternator.derived import encode_key
from alternator.errors import (
    IdempotentParameterMismatchException,
    TransactionCanceledException,
    TransactionInProgressException,
    ValidationException,
)
from alternator.operations import capacity, write_path
from alternator.operations.context import RequestContext, named_table
from alternator.operations.items import (
    check_size,
    checked,
    return_old_on_failure,
    update_step,
)
from alternator.operations.requests import read_expressions, update_expressions, write_expressions
from alternator.schema import item_key, parse_key, read_table_name
from alternator.storage import ItemWrite, TxAction, TxCancel
from alternator.values import Item, item_size, validate_item

ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")
MAX_ACTIONS = 100
MAX_BYTES = 4 * 1024 * 1024
TOKEN_SECONDS = 600.0  # how long a ClientRequestToken's outcome is kept
IN_FLIGHT_SECONDS = 60.0  # how long a token stays "in progress" if its server dies


def _count_error(items: list[Any]) -> ValidationException | None:
    if not items:
        return ValidationException(
            "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1")
    if len(items) > MAX_ACTIONS:
        return ValidationException(
            "1 validation error detected: Value at 'transactItems' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ACTIONS}")
    return None


def _actions(req: dict[str, Any], allowed: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    items = fields.require_list(req, "TransactItems")
    error = _count_error(items)
    if error is not None:
        raise error
    out = []
    for entry in items:
        if not isinstance(entry, dict):
            raise fields.wrong_type("TransactItems", "a list of maps")
        kinds = [k for k in entry if entry[k] is not None and k in allowed]
        if len(kinds) > 1:
            raise ValidationException(
                "TransactItems can only contain one of Check, Put, Update or Delete")
        if not kinds:
            raise ValidationException(
                "Invalid Request: TransactWriteRequest should contain Delete or Put or Update "
                "request" if allowed == ACTIONS else
                "1 validation error detected: Value null at 'transactItems.1.member.get' "
                "failed to satisfy constraint: Member must not be null")
        body = entry[kinds[0]]
        if not isinstance(body, dict):
            raise fields.wrong_type(kinds[0], "a map")
        out.append((kinds[0], body))
    return out


@dataclass(slots=True)
class _Seen:
    """The old and new item of an action as its last plan run saw them (for capacity)."""

    old: Item | None = None
    new: Item | None = None
    write: bool = False


@dataclass(slots=True)
class _Compiled:
    actions: list[TxAction] = field(default_factory=list)
    seen: list[_Seen] = field(default_factory=list)
    keys: set[tuple[str, bytes]] = field(default_factory=set)
    put_bytes: int = 0  # the items the Puts write, in all (at most 4 MB)


def _watching(seen: _Seen, plan: Callable[[Item | None], ItemWrite | None]
              ) -> Callable[[Item | None], ItemWrite | None]:
    def run(old: Item | None) -> ItemWrite | None:
        write = plan(old)
        seen.old = old
        seen.new = write.new if write is not None and isinstance(write.new, dict) else None
        seen.write = write is not None
        return write

    return run


async def _compile(ctx: RequestContext, kind: str, body: dict[str, Any],
                   into: _Compiled) -> None:
    table = await named_table(ctx, read_table_name(body),
                              permissions.SELECT if kind == "ConditionCheck"
                              else permissions.MODIFY)
    on_failure = return_old_on_failure(body)
    plan: Callable[[Item | None], ItemWrite | None]
    if kind == "Put":
        item = validate_item(fields.require_map(body, "Item"))
        key = item_key(table, item)
        check_size(item, "Item size has exceeded the maximum allowed size")
        into.put_bytes += item_size(item)
        step = checked(write_expressions(body), on_failure, lambda _old: item)
        plan = write_path.transaction_plan(ctx.config, table, key, step)
    elif kind == "Delete":
        key = parse_key(table, fields.require_map(body, "Key"))
        step = checked(write_expressions(body), on_failure, lambda _old: None)
        plan = write_path.transaction_plan(ctx.config, table, key, step)
    elif kind == "Update":
        key = parse_key(table, fields.require_map(body, "Key"))
        expressions = update_expressions(body, table)
        if expressions.update is None:
            raise fields.not_null("UpdateExpression")
        step = checked(expressions, on_failure, update_step(expressions.update, key))
        plan = write_path.transaction_plan(ctx.config, table, key, step)
    else:
        key = parse_key(table, fields.require_map(body, "Key"))
        if fields.optional_str(body, "ConditionExpression") is None:
            raise fields.not_null("ConditionExpression")
        condition = checked(write_expressions(body), on_failure, lambda old: old)

        def plan(old: Item | None) -> ItemWrite | None:
            condition(old)
            return None

    identity = (table.table_id, encode_key(table, key))
    if identity in into.keys:
        raise ValidationException(
            "Transaction request cannot include multiple operations on one item")
    into.keys.add(identity)
    seen = _Seen()
    into.seen.append(seen)
    into.actions.append(TxAction(table, key, _watching(seen, plan)))


def _reason(cancel: TxCancel | None) -> dict[str, Any]:
    if cancel is None:
        return {"Code": "None"}
    out: dict[str, Any] = {"Code": cancel.code, "Message": cancel.message}
    if cancel.item is not None:
        out["Item"] = cancel.item
    return out


async def transact_write_items(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    actions = _actions(req, ACTIONS)
    mode = capacity.return_mode(req)
    fields.optional_enum(req, "ReturnItemCollectionMetrics", ("SIZE", "NONE"))
    token = fields.optional_str(req, "ClientRequestToken")
    if token is not None and not 1 <= len(token) <= 36:
        raise ValidationException(
            "1 validation error detected: Value at 'clientRequestToken' failed to satisfy "
            "constraint: Member must have length less than or equal to 36")
    compiled = _Compiled()
    for kind, body in actions:
        await _compile(ctx, kind, body, compiled)
    if compiled.put_bytes > MAX_BYTES:
        raise ValidationException(
            "Transaction request size exceeds the maximum allowed size of 4 MB")
    if token is None:
        return await _commit(ctx, compiled, mode)
    # ClientRequestToken: the first successful outcome is kept for 10 minutes and returned to
    # the same request again; a cancelled or failed one is forgotten (a retry runs again).
    name = f"client-token:{ctx.principal.name if ctx.principal else ''}:{token}"
    digest = hashlib.sha256(orjson.dumps(req, option=orjson.OPT_SORT_KEYS)).hexdigest()
    kept = await ctx.storage.remember(name, orjson.dumps({"d": digest}), IN_FLIGHT_SECONDS)
    if kept is not None:
        memo = orjson.loads(kept) if kept else {}
        if memo.get("d") != digest:
            raise IdempotentParameterMismatchException(
                "The request uses the same client token as a previous, but non-identical "
                "request. Do not reuse a client token with different requests, unless the "
                "requests are identical.")
        if "r" not in memo:
            raise TransactionInProgressException()
        return dict(memo["r"])
    try:
        out = await _commit(ctx, compiled, mode)
    except BaseException:
        await ctx.storage.forget(name)
        raise
    await ctx.storage.remember(name, orjson.dumps({"d": digest, "r": out}), TOKEN_SECONDS,
                               replace=True)
    return out


async def _commit(ctx: RequestContext, compiled: _Compiled,
                  mode: capacity.Mode) -> dict[str, Any]:
    reasons = await ctx.storage.transact(compiled.actions)
    if reasons is not None:
        raise TransactionCanceledException([_reason(r) for r in reasons])
    out: dict[str, Any] = {}
    if mode != "NONE":
        out["ConsumedCapacity"] = _write_capacity(compiled, mode)
    return out


def _write_capacity(compiled: _Compiled, mode: capacity.Mode) -> list[dict[str, Any]]:
    """Per table: twice the units of the same single writes (and checks: reads, doubled), in
    the table and in each secondary index; with INDEXES, the vector indexes' bytes written."""
    units: dict[str, float] = {}
    index_units: dict[str, capacity.IndexUnits] = {}
    vector_bytes: dict[str, dict[str, float]] = {}
    for action, seen in zip(compiled.actions, compiled.seen, strict=True):
        table = action.table
        size = max(item_size(seen.old) if seen.old else 0, item_size(seen.new) if seen.new else 0)
        used = 2 * (capacity.write_units(size) if seen.write
                    else capacity.read_units(size, consistent=True))
        units[table.name] = units.get(table.name, 0.0) + used
        per_index = index_units.setdefault(table.name, {})
        if seen.write and table.indexes:
            for index, written in capacity.index_write_units(table, seen.old, seen.new).items():
                per_index[index] = per_index.get(index, 0.0) + 2 * written
        if seen.write and mode == "INDEXES" and table.vector_indexes:
            per_vector = vector_bytes.setdefault(table.name, {})
            for name, n in capacity.vector_write_bytes(table, seen.old, seen.new).items():
                per_vector[name] = per_vector.get(name, 0.0) + n
    out = []
    for name, used in units.items():
        consumed = capacity.consumed(name, used, mode, "write", index_units[name])
        if consumed is not None:
            capacity.add_vector_bytes(consumed, vector_bytes.get(name, {}))
            out.append(consumed)
    return out


async def transact_get_items(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    actions = _actions(req, ("Get",))
    mode = capacity.return_mode(req)
    reads = []
    projections = []
    for _, body in actions:
        table = await named_table(ctx, read_table_name(body), permissions.SELECT)
        key = parse_key(table, fields.require_map(body, "Key"))
        projections.append(read_expressions(body))
        reads.append((table, key))
    items = await ctx.storage.read_together(reads)
    if items is None:
        raise TransactionCanceledException(
            [{"Code": "TransactionConflict",
              "Message": "Transaction is ongoing for the item"}] * len(reads))
    responses = [{} if item is None else {"Item": p.project(item)}
                 for item, p in zip(items, projections, strict=True)]
    out: dict[str, Any] = {"Responses": responses}
    if mode != "NONE":
        used: dict[str, float] = {}
        for (table, _), item in zip(reads, items, strict=True):
            used[table.name] = used.get(table.name, 0.0) + 2 * capacity.read_units(
                item_size(item) if item else 0, consistent=True)
        out["ConsumedCapacity"] = [c for c in (capacity.consumed(n, u, mode, "read")
                                               for n, u in used.items()) if c is not None]
    return out

