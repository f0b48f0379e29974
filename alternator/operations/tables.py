"""CreateTable, DescribeTable, DeleteTable, ListTables."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alternator import fields
from alternator.auth import permissions
from alternator.errors import ResourceNotFoundException, ValidationException
from alternator.indexes import with_indexes
from alternator.operations import streams
from alternator.operations.context import RequestContext, change_schema, table_for
from alternator.operations.index_updates import update_indexes
from alternator.operations.tags import parse_tag_list
from alternator.operations.vector_index_updates import update_vector_indexes
from alternator.schema import (
    describe,
    describe_deleted,
    parse_attribute_definitions,
    parse_billing,
    parse_create_table,
    validate_table_name,
    with_billing_mode,
)
from alternator.vector_indexes import with_vector_indexes


def _refuse_unsupported(req: dict[str, Any]) -> None:
    """Members the server cannot act on are refused, never silently ignored (an encryption
    key, a table class or protection that would not be there): tests/
    test_tables_exactness.py. Turning a feature off, or asking for the default, is accepted."""
    sse = fields.optional_map(req, "SSESpecification")
    if sse is not None and fields.optional_bool(sse, "Enabled"):
        raise ValidationException("SSESpecification is not supported yet")
    if fields.optional_bool(req, "DeletionProtectionEnabled"):
        raise ValidationException("DeletionProtectionEnabled is not supported yet")
    table_class = fields.optional_enum(req, "TableClass",
                                       ("STANDARD", "STANDARD_INFREQUENT_ACCESS"))
    if table_class not in (None, "STANDARD"):
        raise ValidationException(f"TableClass {table_class} is not supported yet")
    for member in ("ResourcePolicy", "OnDemandThroughput", "WarmThroughput", "ReplicaUpdates", "MultiRegionConsistency",
                   "GlobalTableWitnessUpdates"):
        if req.get(member) is not None:
            raise ValidationException(f"{member} is not supported yet")


async def create_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    _refuse_unsupported(req)
    stream = streams.parse_specification(req)
    schema = with_indexes(with_vector_indexes(
        parse_create_table(req, parse_tag_list(fields.optional_list(req, "Tags") or [])), req),
        req)
    if stream is not None and stream[0]:
        assert stream[1] is not None
        schema = replace(schema, stream=streams.new_stream(ctx, stream[1]))
    ctx.authorize(permissions.CREATE)
    schema = await ctx.storage.create_table(schema)
    if ctx.principal is not None and not ctx.principal.is_superuser:
        # As CQL does for a table's creator: its creator may use, alter and drop it.
        await ctx.storage.grant(ctx.principal.name, permissions.CREATOR_PERMISSIONS,
                                ctx.storage.table_resource(schema))
        if ctx.roles is not None:
            ctx.roles.invalidate(ctx.principal.name)
    return {"TableDescription": describe(schema, ctx.config.region)}


async def describe_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema = await table_for(ctx, req, None)
    return {"Table": describe(schema, ctx.config.region)}


async def delete_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema = await table_for(ctx, req, permissions.DROP)
    schema = await ctx.storage.delete_table(schema.name)
    return {"TableDescription": describe_deleted(schema, ctx.config.region)}


async def list_tables(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = fields.optional_int(req, "Limit")
    if limit is not None and not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    start = fields.optional_str(req, "ExclusiveStartTableName")
    if start is not None:
        validate_table_name(start, "exclusiveStartTableName")
    names = await ctx.storage.list_tables()
    if start is not None:
        names = [n for n in names if n > start]
    limit = limit or 100
    out: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out


async def update_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable: billing mode and provisioned throughput (recorded, not enforced), indexes,
    the stream."""
    schema = await table_for(ctx, req, permissions.ALTER)
    if req.get("SSESpecification") is not None:
        raise ValidationException("SSESpecification is not supported yet")
    _refuse_unsupported(req)
    stream = streams.parse_specification(req)
    if stream is not None:  # refused before anything else changes
        streams.with_stream_change(ctx, schema, *stream)
    index_updates = req.get("GlobalSecondaryIndexUpdates") is not None
    vector_updates = req.get("VectorIndexUpdates") is not None
    definitions = fields.optional_list(req, "AttributeDefinitions")
    if definitions is not None and not index_updates and not vector_updates:
        # Only index updates use them, but their names are checked as at CreateTable.
        parse_attribute_definitions(definitions)
    if req.get("BillingMode") is None and req.get("ProvisionedThroughput") is None \
            and req.get("DeletionProtectionEnabled") is None and req.get("TableClass") is None \
            and not index_updates and not vector_updates and stream is None:
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    if fields.optional_bool(req, "DeletionProtectionEnabled"):
        raise ValidationException("DeletionProtectionEnabled is not supported yet")
    if req.get("BillingMode") is not None or req.get("ProvisionedThroughput") is not None:
        merged = dict(req)
        merged.setdefault("BillingMode", schema.billing_mode)
        if merged["BillingMode"] == "PROVISIONED" and merged.get("ProvisionedThroughput") is None:
            merged["ProvisionedThroughput"] = {"ReadCapacityUnits": schema.read_capacity,
                                               "WriteCapacityUnits": schema.write_capacity}
        mode, rcu, wcu = parse_billing(merged)
        if mode != "PAY_PER_REQUEST" and schema.vector_indexes:
            raise ValidationException(
                "One or more parameter values were invalid: Vector indexes are supported only "
                "on tables that use on-demand capacity mode (BillingMode PAY_PER_REQUEST)")
        changed = await change_schema(ctx.storage, schema.name,
                                      lambda current: with_billing_mode(current, mode, rcu, wcu))
        if changed is None:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {schema.name} not found")
        schema = changed
    if vector_updates:
        schema = await update_vector_indexes(ctx, schema, req)
    elif index_updates:
        schema = await update_indexes(ctx, schema, req)
    if stream is not None:
        enabled, view_type = stream
        if enabled:
            await ctx.storage.add_stream(schema)
        changed = await change_schema(ctx.storage, schema.name, lambda current: (
            streams.with_stream_change(ctx, current, enabled, view_type)))
        if changed is None:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {schema.name} not found")
        schema = changed
    return {"TableDescription": describe(schema, ctx.config.region)}


async def describe_limits(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}


async def describe_endpoints(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    # The address the client reached (its Host header) is the endpoint, as ScyllaDB answers;
    # SDKs with endpoint discovery send their later requests there.
    return {"Endpoints": [{"Address": ctx.host, "CachePeriodInMinutes": 1440}]}
