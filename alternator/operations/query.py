"""Query and Scan.

Both read a table in key order through bounded storage pages, never a whole partition or
table at once: each storage call asks for at most what is left of ``Limit`` and of DynamoDB's
1 MB page (estimated from the average size of the items read so far), and the loop stops as
soon as ``Limit`` items were *read* or 1 MB was read. The 1 MB and ``Limit`` count items before
filtering (ScannedCount), and a response that stopped on either carries a LastEvaluatedKey even
when nothing follows, as DynamoDB's does (tests/test_query.py::test_limit_equal_to_item_count).

Everything the request says is validated, and its expressions bound, before the first storage
call, so a bad FilterExpression is rejected even on an empty table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from alternator import expressions as expr
from alternator import fields
from alternator.auth import permissions
from alternator.derived import entry_position
from alternator.errors import ValidationException
from alternator.expressions.evaluate import begins_with, between, compare
from alternator.metrics import usage
from alternator.operations import capacity, index_reads, system_tables
from alternator.operations.context import RequestContext, table_for
from alternator.operations.system_tables import system_table_name
from alternator.schema import IndexSchema, TableSchema, check_key_value, parse_key
from alternator.storage import Page, SortCondition
from alternator.values import Item, item_size, values_equal

MAX_PAGE_BYTES = 1024 * 1024
# Items asked of storage by the first call, and at most by any call.
FIRST_FETCH = 32
MAX_FETCH = 1000
MAX_TOTAL_SEGMENTS = 1_000_000

_SELECTS = ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
_QUERY_EXPRESSIONS = ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")
_QUERY_LEGACY = ("KeyConditions", "QueryFilter", "AttributesToGet", "ConditionalOperator")
_SCAN_EXPRESSIONS = ("FilterExpression", "ProjectionExpression")
_SCAN_LEGACY = ("ScanFilter", "AttributesToGet", "ConditionalOperator")
_STORAGE_SORT_OPS = {"begins_with": "BEGINS_WITH"}

# Fetch(limit, start_key) -> the next storage page.
Fetch = Callable[[int, Item | None], Awaitable[Page]]


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """What a Query or Scan does with the items it reads, decided before reading any."""

    filter: expr.Condition | None
    projection: expr.Projection | None
    count_only: bool
    limit: int | None
    key_names: tuple[str, ...]


@dataclass(slots=True)
class ReadResult:
    items: list[Item] = field(default_factory=list)
    count: int = 0
    scanned: int = 0
    size: int = 0  # bytes of every item read, filtered out or not
    last_key: Item | None = None


async def read_pages(fetch: Fetch, plan: ReadPlan, start: Item | None) -> ReadResult:
    """Read storage pages until Limit items or 1 MB were read, or storage is exhausted."""
    result = ReadResult()
    want = FIRST_FETCH
    while True:
        if plan.limit is not None:
            want = min(want, plan.limit - result.scanned)
        page = await fetch(want, start)
        for item in page.items:
            result.scanned += 1
            result.size += item_size(item)
            if plan.filter is None or expr.evaluate(plan.filter, item):
                result.count += 1
                if not plan.count_only:
                    kept = item if plan.projection is None else expr.project(plan.projection, item)
                    result.items.append(kept)
            if result.scanned == plan.limit or result.size >= MAX_PAGE_BYTES:
                result.last_key = {name: item[name] for name in plan.key_names}
                return result
        if page.last_key is None:
            return result
        start = page.last_key
        if result.scanned:
            average = max(1, result.size // result.scanned)
            want = max(1, min(MAX_FETCH, (MAX_PAGE_BYTES - result.size) // average + 1))


# --- request parameters -----------------------------------------------------------------------


def _constraint(value: Any, member: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value {constraint}"
    )


def _limit(req: fields.Request) -> int | None:
    limit = fields.optional_int(req, "Limit")
    if limit is not None and limit < 1:
        raise _constraint(limit, "limit", "greater than or equal to 1")
    return limit


def _select(req: fields.Request, prefix: str) -> str | None:
    """Select, checked against ProjectionExpression / AttributesToGet and the (absent) index.

    Query's messages carry a "1 validation error detected: " prefix that Scan's do not
    (tests/test_scan.py::test_select_errors, tests/test_query.py::test_select_errors).
    """
    select = fields.optional_enum(req, "Select", _SELECTS)
    projected = next(
        (p for p in ("AttributesToGet", "ProjectionExpression") if req.get(p) is not None), None
    )
    if select == "ALL_PROJECTED_ATTRIBUTES" and req.get("IndexName") is None:
        raise ValidationException(
            prefix + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projected:
        what = "only the Count" if select == "COUNT" else select
        raise ValidationException(
            prefix + f"Cannot specify the {projected} when choosing to get {what}"
        )
    if select == "SPECIFIC_ATTRIBUTES" and not projected:
        raise ValidationException(
            prefix + "Must specify the AttributesToGet or ProjectionExpression when choosing to "
            "get SPECIFIC_ATTRIBUTES"
        )
    return select


def _binder(req: fields.Request, expressions: tuple[str, ...],
            legacy: tuple[str, ...]) -> expr.Binder:
    expr.check_parameter_styles(req, expressions, legacy)
    return expr.Binder(fields.optional_map(req, "ExpressionAttributeNames"),
                       fields.optional_map(req, "ExpressionAttributeValues"))


def _filter(req: fields.Request, binder: expr.Binder, legacy: str) -> expr.Condition | None:
    text = fields.optional_str(req, "FilterExpression")
    if text is not None:
        return binder.filter(text)
    conditions = fields.optional_map(req, legacy)
    operator = fields.optional_enum(req, "ConditionalOperator", ("AND", "OR"))
    return expr.filter_condition(conditions, operator, legacy)


def _projection(req: fields.Request, binder: expr.Binder) -> expr.Projection | None:
    text = fields.optional_str(req, "ProjectionExpression")
    if text is not None:
        return binder.projection(text)
    names = fields.optional_list(req, "AttributesToGet")
    if names is None:
        return None
    if not all(isinstance(n, str) for n in names):
        raise fields.wrong_type("AttributesToGet", "a list of strings")
    return expr.attributes_to_get(names)


def _start_key(req: fields.Request, table: TableSchema) -> Item | None:
    raw = fields.optional_map(req, "ExclusiveStartKey")
    if raw is None:
        return None
    try:
        return parse_key(table, raw)
    except ValidationException as error:
        raise ValidationException(f"The provided starting key is invalid: {error.message}") from None


def _plan(table: TableSchema, filter_: expr.Condition | None, projection: expr.Projection | None,
          select: str | None, limit: int | None) -> ReadPlan:
    return ReadPlan(filter_, projection, select == "COUNT", limit, table.key_names)


def _index_plan(table: TableSchema, index: IndexSchema, filter_: expr.Condition | None,
                projection: expr.Projection | None, select: str | None,
                limit: int | None) -> tuple[ReadPlan, bool]:
    """The plan of a read of an index, and whether it fetches the items from the table (a
    local index asked for attributes it does not hold)."""
    fetch_items = index_reads.fetches_items(table, index, select, projection, filter_)
    if fetch_items:
        projection = index_reads.default_projection(table, index, select, projection)
    return ReadPlan(filter_, projection, select == "COUNT", limit,
                    index_reads.key_names(table, index)), fetch_items


def _response(table: TableSchema, plan: ReadPlan, result: ReadResult, consistent: bool,
              mode: capacity.Mode, index: IndexSchema | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Count": result.count, "ScannedCount": result.scanned}
    if not plan.count_only:
        out["Items"] = result.items
    if result.last_key is not None:
        out["LastEvaluatedKey"] = result.last_key
    units = capacity.read_units(result.size, consistent)
    counted = usage.of(table.name)
    counted.read_units(units)
    counted.item_bytes += result.size
    counted.returned_items += result.count
    if plan.filter is not None:
        counted.filtered_read += result.scanned
        counted.filtered_matched += result.count
    consumed = capacity.consumed(table.name, units, mode, "read") if index is None else \
        capacity.consumed(table.name, 0.0, mode, "read", {index: units})
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


# --- Query ------------------------------------------------------------------------------------


def _key_condition(req: fields.Request, binder: expr.Binder,
                   table: TableSchema) -> expr.KeyCondition:
    partition_key = table.partition_key.name
    sort_key = table.sort_key.name if table.sort_key is not None else None
    key_types = {table.partition_key.name: table.partition_key.type}
    if table.sort_key is not None:
        key_types[table.sort_key.name] = table.sort_key.type
    text = fields.optional_str(req, "KeyConditionExpression")
    if text is not None:
        key = binder.key_condition(text, partition_key, sort_key, key_types)
    else:
        legacy = fields.optional_map(req, "KeyConditions")
        if legacy is None:
            raise ValidationException(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        key = expr.key_conditions(legacy, partition_key, sort_key, key_types)
    check_key_value(table.partition_key, key.partition_value, True)
    return key


def _check_query_filter_keys(req: fields.Request, filter_: expr.Condition | None,
                             key_names: tuple[str, ...]) -> None:
    """A Query's filter may not read the key attributes of what it queries (the table, or the
    index: tests/test_index_reads.py)."""
    if filter_ is None:
        return
    if req.get("FilterExpression") is not None:
        expr.check_filter_keys(filter_, key_names)
        return
    for name in fields.optional_map(req, "QueryFilter") or {}:
        if name in key_names:
            raise ValidationException(
                "QueryFilter can only contain non-primary key attributes: "
                f"Primary key attribute: {name}"
            )


def _sort_holds(sort: expr.SortKeyCondition, value: dict[str, Any]) -> bool:
    if sort.op == "BETWEEN":
        return between(value, sort.values[0], sort.values[1])
    if sort.op == "begins_with":
        return begins_with(value, sort.values[0])
    return compare(sort.op, value, sort.values[0])


def _check_query_start(start: Item, key: expr.KeyCondition) -> None:
    """DynamoDB refuses an ExclusiveStartKey outside the range the key condition selects."""
    if not values_equal(start[key.partition_key], key.partition_value):
        raise ValidationException(
            "The provided starting key is outside query boundaries based on provided conditions"
        )
    sort = key.sort
    if sort is not None and key.sort_key is not None and not _sort_holds(sort, start[key.sort_key]):
        raise ValidationException("The provided starting key does not match the range key predicate")


def _storage_sort(key: expr.KeyCondition) -> SortCondition | None:
    if key.sort is None:
        return None
    op = _STORAGE_SORT_OPS.get(key.sort.op, key.sort.op)
    return SortCondition(cast(Any, op), key.sort.values)


async def query(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    system = system_table_name(fields.require_str(req, "TableName"))
    if system is not None:
        return await system_tables.read(ctx, req, *system, is_query=True)
    limit = _limit(req)
    select = _select(req, "1 validation error detected: ")
    forward = fields.optional_bool(req, "ScanIndexForward") is not False
    consistent = bool(fields.optional_bool(req, "ConsistentRead"))
    mode = capacity.return_mode(req)
    table = await table_for(ctx, req, permissions.SELECT)
    index = index_reads.find_index(req, table)
    if index is not None:
        index_reads.check_read(index, consistent, select)
    binder = _binder(req, _QUERY_EXPRESSIONS, _QUERY_LEGACY)
    if index is not None:
        index_key = index_reads.key_condition(req, binder, index)
    else:
        key = _key_condition(req, binder, table)
    filter_ = _filter(req, binder, "QueryFilter")
    projection = _projection(req, binder)
    binder.finish()
    if index is not None:
        _check_query_filter_keys(req, filter_, index.key_names)
        start = index_reads.start_key(req, table, index)
        if start is not None:
            index_reads.check_query_start(start, index, index_key)
        plan, fetch_items = _index_plan(table, index, filter_, projection, select, limit)
        fetch = index_reads.query_fetch(ctx.storage, table, index, index_key, forward,
                                        consistent, fetch_items)
        return _response(table, plan, await read_pages(fetch, plan, start), consistent, mode,
                         index)
    _check_query_filter_keys(req, filter_, table.key_names)
    start = _start_key(req, table)
    if start is not None:
        _check_query_start(start, key)

    sort = _storage_sort(key)

    async def table_fetch(want: int, start_key: Item | None) -> Page:
        return await ctx.storage.query(table, key.partition_value, sort, forward, want,
                                       start_key, consistent)

    plan = _plan(table, filter_, projection, select, limit)
    return _response(table, plan, await read_pages(table_fetch, plan, start), consistent, mode)


# --- Scan -------------------------------------------------------------------------------------


def _segments(req: fields.Request) -> tuple[int, int]:
    """(Segment, TotalSegments) of a parallel scan; (0, 1) for a plain one."""
    segment = fields.optional_int(req, "Segment")
    total = fields.optional_int(req, "TotalSegments")
    if total is not None and total < 1:
        raise _constraint(total, "totalSegments", "greater than or equal to 1")
    if total is not None and total > MAX_TOTAL_SEGMENTS:
        raise _constraint(total, "totalSegments", f"less than or equal to {MAX_TOTAL_SEGMENTS}")
    if segment is not None and segment < 0:
        raise _constraint(segment, "segment", "greater than or equal to 0")
    if segment is not None and segment >= MAX_TOTAL_SEGMENTS:
        raise _constraint(segment, "segment", f"less than or equal to {MAX_TOTAL_SEGMENTS - 1}")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if segment is None or total is None:
        return 0, 1
    if segment >= total:
        raise ValidationException(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return segment, total


async def scan(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    system = system_table_name(fields.require_str(req, "TableName"))
    if system is not None:
        return await system_tables.read(ctx, req, *system, is_query=False)
    limit = _limit(req)
    select = _select(req, "")
    segment, total_segments = _segments(req)
    consistent = bool(fields.optional_bool(req, "ConsistentRead"))
    mode = capacity.return_mode(req)
    table = await table_for(ctx, req, permissions.SELECT)
    index = index_reads.find_index(req, table)
    if index is not None:
        index_reads.check_read(index, consistent, select)
    binder = _binder(req, _SCAN_EXPRESSIONS, _SCAN_LEGACY)
    filter_ = _filter(req, binder, "ScanFilter")
    projection = _projection(req, binder)
    binder.finish()
    if index is not None:
        start = index_reads.start_key(req, table, index)
        if start is not None and total_segments > 1 and ctx.storage.derived_segment_of(
                table, entry_position(table, index, start)[0], total_segments) != segment:
            raise _wrong_segment()
        plan, fetch_items = _index_plan(table, index, filter_, projection, select, limit)
        fetch = index_reads.scan_fetch(ctx.storage, table, index, segment, total_segments,
                                       consistent, fetch_items)
        return _response(table, plan, await read_pages(fetch, plan, start), consistent, mode,
                         index)
    start = _start_key(req, table)
    if start is not None and total_segments > 1 and \
            ctx.storage.segment_of(table, start, total_segments) != segment:
        raise _wrong_segment()

    async def table_fetch(want: int, start_key: Item | None) -> Page:
        return await ctx.storage.scan(table, segment, total_segments, want, start_key,
                                      consistent)

    plan = _plan(table, filter_, projection, select, limit)
    return _response(table, plan, await read_pages(table_fetch, plan, start), consistent, mode)


def _wrong_segment() -> ValidationException:
    return ValidationException(
        "The provided Exclusive start key does not map to the provided Segment and "
        "TotalSegments values.")
