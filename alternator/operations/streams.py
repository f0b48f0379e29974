"""DynamoDB Streams: StreamSpecification on CreateTable and UpdateTable, and the Streams API
(ListStreams, DescribeStream, GetShardIterator, GetRecords) on the same endpoint.

A stream's records are written by the backends with their item writes (operations/write_path.py
hands them over); here they are found and shown. docs/streams.md has the design.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from alternator import fields
from alternator.auth import permissions
from alternator.config import Config
from alternator.errors import (
    ExpiredIteratorException,
    ResourceNotFoundException,
    TrimmedDataAccessException,
    ValidationException,
)
from alternator.metrics import usage
from alternator.operations.context import RequestContext, named_table
from alternator.schema import StreamSettings, TableSchema, stream_arn, validate_table_name
from alternator.storage import Storage, StreamPosition
from alternator.streams.records import VIEW_TYPES, present
from alternator.streams.shards import (
    MAX_TIE,
    Shard,
    ShardIterator,
    before,
    decode_iterator,
    find_shard,
    label_of,
    parse_sequence_number,
    parse_stream_arn,
    sequence_number,
    shards_of,
)

log = logging.getLogger(__name__)
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def _now_us() -> int:
    return time.time_ns() // 1000


# --- StreamSpecification ------------------------------------------------------------------------


def parse_specification(req: dict[str, Any]) -> tuple[bool, str | None] | None:
    """(enabled, view type) of a request's StreamSpecification; None when there is none."""
    spec = fields.optional_map(req, "StreamSpecification")
    if spec is None:
        return None
    enabled = fields.optional_bool(spec, "StreamEnabled")
    if enabled is None:
        raise fields.not_null("StreamSpecification.StreamEnabled")
    view_type = fields.optional_enum(spec, "StreamViewType", VIEW_TYPES)
    if enabled and view_type is None:
        raise ValidationException(
            "One or more parameter values were invalid: StreamViewType is required when "
            "StreamEnabled is true")
    return enabled, view_type


def new_stream(ctx: RequestContext, view_type: str) -> StreamSettings:
    now = time.time()
    config = ctx.config.streams
    return StreamSettings(view_type, label_of(now), now, None, config.shards,
                          round(config.shard_period, 3))


def with_stream_change(ctx: RequestContext, schema: TableSchema, enabled: bool,
                       view_type: str | None) -> TableSchema:
    """The schema after UpdateTable's StreamSpecification (refusals as DynamoDB's)."""
    retention = ctx.config.streams.retention
    now = time.time()
    kept = tuple(s for s in schema.old_streams
                 if s.closed is not None and s.closed > now - retention)
    if enabled:
        if schema.stream is not None:
            raise ValidationException(
                f"Table already has an enabled stream: TableName: {schema.name}")
        assert view_type is not None
        return replace(schema, stream=new_stream(ctx, view_type), old_streams=kept)
    if schema.stream is None:
        raise ValidationException(f"Table has no stream to disable: TableName: {schema.name}")
    return replace(schema, stream=None,
                   old_streams=(*kept, replace(schema.stream, closed=now)))


# --- finding streams and shards ---------------------------------------------------------------


def _streams_of(schema: TableSchema, now: float, retention: float) -> list[StreamSettings]:
    out = [s for s in schema.old_streams if s.closed is not None and s.closed > now - retention]
    if schema.stream is not None:
        out.append(schema.stream)
    return out


def _stream_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")


async def _stream_for(ctx: RequestContext, arn: str) -> tuple[TableSchema, StreamSettings]:
    """The table and stream an ARN names, after checking SELECT on the table."""
    parsed = parse_stream_arn(arn)
    if parsed is None:
        raise ValidationException(f"Invalid StreamArn: {arn}")
    name, label = parsed
    schema = await ctx.storage.get_table(name)
    if schema is None:
        raise _stream_not_found(arn)
    ctx.authorize(permissions.SELECT, ctx.storage.table_resource(schema))
    for stream in _streams_of(schema, time.time(), ctx.config.streams.retention):
        if stream.label == label:
            return schema, stream
    raise _stream_not_found(arn)


def _retention_us(ctx: RequestContext) -> int:
    return int(ctx.config.streams.retention * 1_000_000)


def _horizon_us(ctx: RequestContext, now_us: int) -> int:
    """How far readers read: up to now on a backend whose records commit in timestamp order,
    else the time window behind it (docs/streams.md)."""
    if ctx.storage.ordered_stream_commits:
        return now_us
    return now_us - int(ctx.config.streams.time_window * 1_000_000)


def _shard_for(ctx: RequestContext, arn: str, stream: StreamSettings, shard_id: str,
               now_us: int) -> Shard:
    shard = find_shard(stream, shard_id, now_us, _retention_us(ctx))
    if shard is None:
        raise ResourceNotFoundException(
            f"Requested resource not found: Shard: {shard_id} in Stream: {arn} not found")
    return shard


def _limit(req: dict[str, Any], most: int) -> int:
    limit = fields.optional_int(req, "Limit")
    if limit is None:
        return most
    if not 1 <= limit <= most:
        bound = "greater than or equal to 1" if limit < 1 else f"less than or equal to {most}"
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {bound}")
    return limit


# --- the Streams API --------------------------------------------------------------------------


async def list_streams(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = _limit(req, 100)
    table_name = fields.optional_str(req, "TableName")
    start = fields.optional_str(req, "ExclusiveStartStreamArn")
    if table_name is not None:
        validate_table_name(table_name, "tableName")
        names = [table_name]
        await named_table(ctx, table_name, None)
    else:
        names = await ctx.storage.list_tables()
    now, retention = time.time(), ctx.config.streams.retention
    entries = []
    for name in names:
        schema = await ctx.storage.get_table(name)
        if schema is None:
            continue
        for stream in _streams_of(schema, now, retention):
            entries.append({"StreamArn": stream_arn(ctx.config.region, name, stream.label),
                            "TableName": name, "StreamLabel": stream.label})
    entries.sort(key=lambda e: e["StreamArn"])
    if start is not None:
        entries = [e for e in entries if e["StreamArn"] > start]
    out: dict[str, Any] = {"Streams": entries[:limit]}
    if len(entries) > limit:
        out["LastEvaluatedStreamArn"] = entries[limit - 1]["StreamArn"]
    return out


async def describe_stream(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    arn = fields.require_str(req, "StreamArn")
    limit = _limit(req, 100)
    start = fields.optional_str(req, "ExclusiveStartShardId")
    schema, stream = await _stream_for(ctx, arn)
    now_us = _now_us()
    horizon = _horizon_us(ctx, now_us)
    shards = shards_of(stream, now_us, _retention_us(ctx))
    if start is not None:
        ids = [s.id for s in shards]
        shards = shards[ids.index(start) + 1:] if start in ids else \
            [s for s in shards if s.id > start]
    shown = []
    for shard in shards[:limit]:
        numbers = {"StartingSequenceNumber": sequence_number(shard.first)}
        if shard.closed(horizon):
            numbers["EndingSequenceNumber"] = sequence_number(shard.last)
        entry: dict[str, Any] = {"ShardId": shard.id, "SequenceNumberRange": numbers}
        if shard.parent_id is not None:
            entry["ParentShardId"] = shard.parent_id
        shown.append(entry)
    key_schema = [{"AttributeName": schema.partition_key.name, "KeyType": "HASH"}]
    if schema.sort_key is not None:
        key_schema.append({"AttributeName": schema.sort_key.name, "KeyType": "RANGE"})
    description: dict[str, Any] = {
        "StreamArn": arn,
        "StreamLabel": stream.label,
        "StreamStatus": "ENABLED" if stream.closed is None else "DISABLED",
        "StreamViewType": stream.view_type,
        "CreationRequestDateTime": stream.started,
        "TableName": schema.name,
        "KeySchema": key_schema,
        "Shards": shown,
    }
    if len(shards) > limit:
        description["LastEvaluatedShardId"] = shards[limit - 1].id
    return {"StreamDescription": description}


def _sequence_position(req: dict[str, Any], shard: Shard) -> StreamPosition:
    text = fields.optional_str(req, "SequenceNumber")
    if text is None:
        raise ValidationException(
            "1 validation error detected: SequenceNumber must be given for "
            "AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER iterators")
    position = parse_sequence_number(text)
    if position is None or not shard.first <= position <= shard.last:
        raise ValidationException(
            f"Invalid SequenceNumber: {text} is not a sequence number of shard {shard.id}")
    return position


async def get_shard_iterator(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    arn = fields.require_str(req, "StreamArn")
    shard_id = fields.require_str(req, "ShardId")
    kind = fields.optional_enum(req, "ShardIteratorType", ITERATOR_TYPES)
    if kind is None:
        raise fields.not_null("ShardIteratorType")
    schema, stream = await _stream_for(ctx, arn)
    now_us = _now_us()
    shard = _shard_for(ctx, arn, stream, shard_id, now_us)
    after: StreamPosition | None
    if kind == "TRIM_HORIZON":
        after = None
    elif kind == "LATEST":
        after = min((now_us, MAX_TIE), shard.last)
    else:
        position = _sequence_position(req, shard)
        if position[0] < now_us - _retention_us(ctx):
            raise TrimmedDataAccessException(
                f"The sequence number {sequence_number(position)} is beyond the trim horizon "
                "of the shard")
        after = before(position) if kind == "AT_SEQUENCE_NUMBER" else position
    iterator = ShardIterator(schema.name, stream.label, shard.id, after, now_us // 1000)
    return {"ShardIterator": iterator.encode()}


async def get_records(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    text = fields.require_str(req, "ShardIterator")
    limit = _limit(req, 1000)
    iterator = decode_iterator(text) if len(text) <= 2048 else None
    if iterator is None:
        raise ValidationException("Invalid ShardIterator")
    now_us = _now_us()
    if now_us // 1000 - iterator.issued_ms > ctx.config.streams.iterator_lifetime * 1000:
        raise ExpiredIteratorException()
    arn = stream_arn(ctx.config.region, iterator.table, iterator.label)
    schema, stream = await _stream_for(ctx, arn)
    retention = _retention_us(ctx)
    shard = find_shard(stream, iterator.shard, now_us, retention)
    if shard is None:
        raise TrimmedDataAccessException("The shard iterator's records have been trimmed")
    if iterator.after is None:
        start = before((max(shard.start_us, now_us - retention), 0))
    elif iterator.after[0] < now_us - retention:
        raise TrimmedDataAccessException(
            "The shard iterator points before the trim horizon of the shard")
    else:
        start = iterator.after
    horizon = _horizon_us(ctx, now_us)
    upto = min(shard.last, (horizon, MAX_TIE))
    rows: list[tuple[int, int, bytes]] = []
    if upto > start:
        rows, upto = await ctx.storage.read_stream(schema, stream.label, shard.bucket,
                                                   shard.generation, start, upto, limit)
    records = [present(stream, ctx.config.region, (ts, tie), data) for ts, tie, data in rows]
    reached = (rows[-1][0], rows[-1][1]) if len(rows) == limit else max(start, upto)
    counted = usage.of(schema.name)
    counted.resource = ctx.storage.table_resource(schema)
    counted.returned_records += len(records)
    out: dict[str, Any] = {"Records": records}
    if not (shard.closed(horizon) and reached >= shard.last):
        out["NextShardIterator"] = ShardIterator(schema.name, stream.label, shard.id, reached,
                                                 now_us // 1000).encode()
    return out


TRIM_PERIOD = 60.0


async def trim_loop(storage: Storage, config: Config) -> None:
    """Delete records past the retention in every table with streams (where they do not
    expire by themselves), a bounded amount per table, once a minute."""
    while True:
        await asyncio.sleep(min(TRIM_PERIOD, config.streams.retention))
        try:
            before_us = _now_us() - int(config.streams.retention * 1_000_000)
            for name in await storage.list_tables():
                schema = await storage.get_table(name)
                if schema is not None and (schema.stream is not None or schema.old_streams):
                    await storage.trim_streams(schema, before_us)
        except Exception:
            log.warning("trimming stream records failed; will retry", exc_info=True)
