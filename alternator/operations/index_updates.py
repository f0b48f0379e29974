"""UpdateTable's GlobalSecondaryIndexUpdates: Create (backfilled online), Delete, Update.

DynamoDB allows one index creation or deletion per UpdateTable call; each ``Create`` needs the
AttributeDefinitions of its new key attributes. A created index is ``CREATING`` until its
backfill (operations/backfill.py) is done; until then it cannot be read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alternator import fields
from alternator.errors import (
    LimitExceededException,
    ResourceNotFoundException,
    ValidationException,
)
from alternator.indexes import MAX_GLOBAL, parse_index, parse_units
from alternator.operations.context import RequestContext, change_schema
from alternator.schema import IndexSchema, KeyAttribute, TableSchema, parse_attribute_definitions

_ACTIONS = ("Create", "Update", "Delete")


def _invalid(message: str) -> ValidationException:
    return ValidationException("One or more parameter values were invalid: " + message)


async def update_indexes(ctx: RequestContext, schema: TableSchema,
                         req: dict[str, Any]) -> TableSchema:
    """Apply the request's GlobalSecondaryIndexUpdates; the table's schema after them."""
    updates = fields.require_list(req, "GlobalSecondaryIndexUpdates")
    if not updates:
        raise _invalid("GlobalSecondaryIndexUpdates is empty")
    actions: list[tuple[str, dict[str, Any]]] = []
    for update in updates:
        if not isinstance(update, dict):
            raise fields.wrong_type("GlobalSecondaryIndexUpdates", "a structure")
        given = [a for a in _ACTIONS if update.get(a) is not None]
        if len(given) != 1:
            raise _invalid("One of GlobalSecondaryIndexUpdate.Update, "
                           "GlobalSecondaryIndexUpdate.Create, "
                           "GlobalSecondaryIndexUpdate.Delete must not be null")
        action = given[0]
        body = update[action]
        if not isinstance(body, dict):
            raise fields.wrong_type(action, "a structure")
        actions.append((action, body))
    if sum(1 for action, _ in actions if action != "Update") > 1:
        raise LimitExceededException(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table")
    names = [fields.require_str(body, "IndexName") for _, body in actions]
    for name in names:
        if names.count(name) > 1:
            raise _invalid(f"Only one global secondary index update per index is allowed "
                           f"simultaneously. Index: {name}")
    definitions = merged_definitions(schema, req)
    created = next((_create(schema, body, definitions) for action, body in actions
                    if action == "Create"), None)
    deleted = [_find(schema, body) for action, body in actions if action == "Delete"]

    def apply(current: TableSchema) -> TableSchema:
        new = current
        for action, body in actions:
            if action == "Create":
                assert created is not None
                if new.index(created.name) is not None:
                    raise _invalid("Attempting to create an index which already exists: "
                                   f"{created.name}")
                new = replace(new, indexes=(*new.indexes, created))
            elif action == "Delete":
                index = _find(new, body)
                new = replace(new, indexes=tuple(ix for ix in new.indexes if ix is not index))
            else:
                new = _update(new, body)
        return with_used_definitions(new, current, definitions)

    if created is not None:
        await ctx.storage.add_index(schema, created)
    new = await change_schema(ctx.storage, schema.name, apply)
    if new is None:
        raise ResourceNotFoundException(
            f"Requested resource not found: Table: {schema.name} not found")
    for index in deleted:
        await ctx.storage.drop_index(new, index)
    if created is not None:
        ctx.wake_backfill()
    return new


def with_used_definitions(new: TableSchema, current: TableSchema,
                          definitions: dict[str, str]) -> TableSchema:
    """``new`` with the attribute definitions its keys, index keys and vector index search
    attributes use (from ``current``'s and the request's)."""
    used = set(new.key_names) | {a.name for ix in new.indexes
                                 for a in ix.partition_key + ix.sort_key} | \
        {a.name for vx in new.vector_indexes for a in vx.search_attributes}
    known = {a.name: a.type for a in current.attribute_definitions} | definitions
    return replace(new, attribute_definitions=tuple(
        KeyAttribute(n, t) for n, t in known.items() if n in used))


def merged_definitions(schema: TableSchema, req: dict[str, Any]) -> dict[str, str]:
    """The table's attribute definitions with the request's added; a redefinition with another
    type is refused."""
    definitions = {a.name: a.type for a in schema.attribute_definitions}
    given = fields.optional_list(req, "AttributeDefinitions")
    for name, kind in parse_attribute_definitions(given or []).items():
        if definitions.get(name, kind) != kind:
            raise _invalid(
                f"Cannot change the type of an existing key attribute: {name}")
        definitions[name] = kind
    return definitions


def _create(schema: TableSchema, body: dict[str, Any],
            definitions: dict[str, str]) -> IndexSchema:
    name = fields.require_str(body, "IndexName")
    if schema.index(name) is not None or schema.vector_index(name) is not None:
        raise _invalid(f"Attempting to create an index which already exists: {name}")
    if sum(1 for ix in schema.indexes if not ix.local) >= MAX_GLOBAL:
        raise LimitExceededException(
            f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL}")
    index = parse_index(body, "globalSecondaryIndexUpdates.1.member.create", definitions,
                        False, schema)
    return replace(index, status="CREATING")


def _find(schema: TableSchema, body: dict[str, Any]) -> IndexSchema:
    name = fields.require_str(body, "IndexName")
    index = schema.index(name)
    if index is None or index.local:
        raise ResourceNotFoundException(
            f"Requested resource not found: Requested index {name} not found")
    return index


def _update(schema: TableSchema, body: dict[str, Any]) -> TableSchema:
    index = _find(schema, body)
    throughput = fields.optional_map(body, "ProvisionedThroughput")
    if throughput is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'globalSecondaryIndexUpdates.1.member."
            "update.provisionedThroughput' failed to satisfy constraint: Member must not be null")
    if schema.billing_mode == "PAY_PER_REQUEST":
        raise _invalid("ProvisionedThroughput cannot be specified for index: "
                       f"{index.name} when BillingMode is PAY_PER_REQUEST")
    rcu, wcu = parse_units(throughput, "globalSecondaryIndexUpdates.1.member.update."
                                       "provisionedThroughput")
    changed = replace(index, read_capacity=rcu, write_capacity=wcu)
    return replace(schema, indexes=tuple(changed if ix is index else ix
                                         for ix in schema.indexes))
