"""UpdateTable's VectorIndexUpdates: Create (backfilled online, as a global secondary index is)
and Delete, one per request (docs/vector-search.md).

A created vector index is ``CREATING`` until its backfill (operations/backfill.py) is done;
until then SearchVectors refuses it. Its SearchSchema attributes need AttributeDefinitions, as
at CreateTable.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alternator import fields
from alternator.errors import LimitExceededException, ResourceNotFoundException
from alternator.indexes import invalid
from alternator.operations.context import RequestContext, change_schema
from alternator.operations.index_updates import merged_definitions, with_used_definitions
from alternator.schema import TableSchema, VectorIndexSchema
from alternator.vector_indexes import check_compatible, parse_vector_index


async def update_vector_indexes(ctx: RequestContext, schema: TableSchema,
                                req: dict[str, Any]) -> TableSchema:
    """Apply the request's VectorIndexUpdates; the table's schema after them."""
    updates = fields.require_list(req, "VectorIndexUpdates")
    if not updates:
        raise invalid("VectorIndexUpdates is empty")
    if len(updates) > 1 or req.get("GlobalSecondaryIndexUpdates") is not None:
        raise LimitExceededException(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table")
    update = updates[0]
    if not isinstance(update, dict):
        raise fields.wrong_type("VectorIndexUpdates", "a structure")
    given = [a for a in ("Create", "Delete") if update.get(a) is not None]
    if len(given) != 1:
        raise invalid("One of VectorIndexUpdate.Create, VectorIndexUpdate.Delete must not "
                      "be null")
    body = update[given[0]]
    if not isinstance(body, dict):
        raise fields.wrong_type(given[0], "a structure")
    definitions = merged_definitions(schema, req)
    if given[0] == "Create":
        created = replace(parse_vector_index(body, "vectorIndexUpdates.1.member.create",
                                             definitions, schema), status="CREATING")
        check_compatible(schema, created)

        def create(current: TableSchema) -> TableSchema:
            check_compatible(current, created)
            new = replace(current, vector_indexes=(*current.vector_indexes, created))
            return with_used_definitions(new, current, definitions)

        await ctx.storage.add_index(schema, created)
        new = await change_schema(ctx.storage, schema.name, create)
        if new is None:
            raise _table_gone(schema)
        ctx.wake_backfill()
        return new
    deleted = _find(schema, fields.require_str(body, "IndexName"))

    def delete(current: TableSchema) -> TableSchema:
        index = _find(current, deleted.name)
        new = replace(current, vector_indexes=tuple(
            vx for vx in current.vector_indexes if vx is not index))
        return with_used_definitions(new, current, {})

    new = await change_schema(ctx.storage, schema.name, delete)
    if new is None:
        raise _table_gone(schema)
    await ctx.storage.drop_index(new, deleted)
    return new


def _find(schema: TableSchema, name: str) -> VectorIndexSchema:
    index = schema.vector_index(name)
    if index is None:
        raise ResourceNotFoundException(
            f"Requested resource not found: Requested index {name} not found")
    return index


def _table_gone(schema: TableSchema) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        f"Requested resource not found: Table: {schema.name} not found")
