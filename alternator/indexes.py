"""Secondary indexes, pure: CreateTable's and UpdateTable's index specifications, the checks an
item written to an indexed table passes, and DescribeTable's index members.

The messages are DynamoDB's (tests/test_indexes.py pins them).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from alternator import fields
from alternator.errors import ValidationException
from alternator.schema import (
    IndexSchema,
    KeyAttribute,
    Projection,
    TableSchema,
    check_key_name,
)
from alternator.values import Item, attribute_type, decode_binary

MAX_GLOBAL = 20
MAX_LOCAL = 5
MAX_PROJECTED = 100
MAX_KEY_PARTS = 4
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-]+")


def invalid(message: str) -> ValidationException:
    return ValidationException("One or more parameter values were invalid: " + message)


def constraint_error(value: Any, member: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}")


# --- CreateTable ------------------------------------------------------------------------------


def with_indexes(schema: TableSchema, req: fields.Request) -> TableSchema:
    """The CreateTable schema with its GlobalSecondaryIndexes and LocalSecondaryIndexes, after
    every check DynamoDB makes of them and of the attribute definitions they use."""
    definitions = {a.name: a.type for a in schema.attribute_definitions}
    global_specs = fields.optional_list(req, "GlobalSecondaryIndexes")
    local_specs = fields.optional_list(req, "LocalSecondaryIndexes")
    indexes = []
    for specs, local, member, limit in ((global_specs, False, "globalSecondaryIndexes",
                                         MAX_GLOBAL),
                                        (local_specs, True, "localSecondaryIndexes", MAX_LOCAL)):
        if specs is None:
            continue
        if not specs:
            raise invalid(f"List of {'Local' if local else 'Global'}SecondaryIndexes is empty")
        if len(specs) > limit:
            kind = "LocalSecondaryIndexes" if local else "GlobalSecondaryIndexes"
            raise ValidationException(
                f"One or more parameter values were invalid: {kind} exceeds the maximum number "
                f"of indexes: {limit}" if local else
                "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds "
                f"the per-table limit of {limit}")
        for i, spec in enumerate(specs, 1):
            indexes.append(parse_index(spec, f"{member}.{i}.member", definitions, local,
                                       schema))
    names = [ix.name for ix in indexes]
    for name in names:
        if names.count(name) > 1:
            raise invalid(f"Duplicate index name: {name}")
    for vector_index in schema.vector_indexes:
        if vector_index.name in names:
            raise invalid(f"Duplicate index name: {vector_index.name}")
        if any(vector_index.attribute in ix.key_names for ix in indexes):
            raise invalid(f"The vector attribute {vector_index.attribute} of index "
                           f"{vector_index.name} is a key attribute of a secondary index")
    _check_projected_count(indexes)
    used = set(schema.key_names) | {a.name for ix in indexes
                                    for a in ix.partition_key + ix.sort_key} | \
        {a.name for vx in schema.vector_indexes for a in vx.search_attributes}
    if set(definitions) != used:
        if not indexes and not schema.vector_indexes:
            raise invalid("Number of attributes in KeySchema does not exactly match number of "
                           "attributes defined in AttributeDefinitions")
        raise invalid(
            "Some AttributeDefinitions are not used. AttributeDefinitions: "
            f"[{', '.join(definitions)}], keys used: [{', '.join(sorted(used))}]")
    return replace(schema, indexes=tuple(indexes))


def parse_index(spec: Any, member: str, definitions: dict[str, str], local: bool,
                table: TableSchema) -> IndexSchema:
    """One index specification of CreateTable or of UpdateTable's ``Create``."""
    if not isinstance(spec, dict):
        raise fields.wrong_type(member, "a structure")
    name = fields.require_str(spec, "IndexName")
    check_index_name(name, member + ".indexName")
    key_schema = spec.get("KeySchema")
    if key_schema is None:
        raise constraint_error("null", member + ".keySchema", "Member must not be null")
    if not isinstance(key_schema, list):
        raise fields.wrong_type("KeySchema", "a list")
    hash_keys, range_keys = _parse_index_keys(key_schema, member, local)
    missing = [n for n in hash_keys + range_keys if n not in definitions]
    if missing:
        raise invalid(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: "
            f"[{', '.join(hash_keys + range_keys)}], AttributeDefinitions: "
            f"[{', '.join(definitions)}]")
    if local:
        _check_local_keys(name, hash_keys, range_keys, table)
    raw_projection = spec.get("Projection")
    if raw_projection is None:
        raise constraint_error("null", member + ".projection", "Member must not be null")
    if not isinstance(raw_projection, dict):
        raise fields.wrong_type("Projection", "a structure")
    projection = parse_projection(raw_projection, member)
    key_names = set(table.key_names) | set(hash_keys) | set(range_keys)
    projection = Projection(projection.kind, tuple(
        a for a in projection.non_key_attributes if a not in key_names))
    rcu, wcu = _index_throughput(spec, name, local, table.billing_mode)
    return IndexSchema(
        name=name, local=local,
        partition_key=tuple(KeyAttribute(n, definitions[n]) for n in hash_keys),
        sort_key=tuple(KeyAttribute(n, definitions[n]) for n in range_keys),
        projection=projection, id=uuid.uuid4().hex, read_capacity=rcu, write_capacity=wcu)


def check_index_name(name: str, member: str) -> None:
    if len(name) < 3:
        raise constraint_error(name, member, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise constraint_error(name, member, "Member must have length less than or equal to 255")
    if not _NAME_RE.fullmatch(name):
        raise constraint_error(name, member,
                          "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")


def _parse_index_keys(raw: list[Any], member: str, local: bool) -> tuple[list[str], list[str]]:
    """(hash attributes, range attributes) of an index KeySchema, in order. A global index may
    have up to four of each (multi-attribute keys); a local one has one of each."""
    most = 2 if local else 2 * MAX_KEY_PARTS
    if not 1 <= len(raw) <= most:
        bound = "greater than or equal to 1" if not raw else f"less than or equal to {most}"
        raise constraint_error(raw, member + ".keySchema", f"Member must have length {bound}")
    hash_keys: list[str] = []
    range_keys: list[str] = []
    for i, element in enumerate(raw, 1):
        if not isinstance(element, dict):
            raise fields.wrong_type("KeySchema", "a structure")
        name = fields.require_str(element, "AttributeName")
        check_key_name(name, f"{member}.keySchema.{i}.member.attributeName")
        key_type = fields.require_str(element, "KeyType")
        if key_type not in ("HASH", "RANGE"):
            raise constraint_error(key_type, f"{member}.keySchema.{i}.member.keyType",
                              "Member must satisfy enum value set: [HASH, RANGE]")
        if name in hash_keys or name in range_keys:
            if len(raw) > 2:
                raise invalid(f"Duplicate KeySchema attribute name: {name}")
            raise ValidationException("Both the Hash Key and the Range Key element in the "
                                      "KeySchema have the same name")
        if key_type == "HASH":
            if range_keys:
                raise ValidationException("Invalid KeySchema: The first KeySchemaElement is "
                                          "not a HASH key type" if not hash_keys else
                                          "Invalid KeySchema: HASH key attributes must come "
                                          "before RANGE key attributes")
            hash_keys.append(name)
        else:
            if not hash_keys:
                raise ValidationException(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
            range_keys.append(name)
    if len(hash_keys) > MAX_KEY_PARTS or len(range_keys) > MAX_KEY_PARTS:
        raise invalid(f"An index key may have at most {MAX_KEY_PARTS} HASH and "
                       f"{MAX_KEY_PARTS} RANGE attributes")
    if local and len(hash_keys) > 1:
        raise ValidationException(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    return hash_keys, range_keys


def _check_local_keys(name: str, hash_keys: list[str], range_keys: list[str],
                      table: TableSchema) -> None:
    if table.sort_key is None:
        raise invalid("Table KeySchema does not have a range key, which is required when "
                       "specifying a LocalSecondaryIndex")
    if hash_keys != [table.partition_key.name]:
        raise invalid(
            "Index KeySchema does not have the same leading hash key as table KeySchema for "
            f"index: {name}. index hash key: {hash_keys[0]}, table hash key: "
            f"{table.partition_key.name}")
    if not range_keys:
        raise invalid(f"Index KeySchema does not have a range key for index: {name}")


def parse_projection(raw: dict[str, Any], member: str) -> Projection:
    kind = raw.get("ProjectionType")
    if kind is not None and not isinstance(kind, str):
        raise fields.wrong_type("ProjectionType", "a string")
    if kind is not None and kind not in PROJECTIONS:
        raise constraint_error(kind, member + ".projection.projectionType",
                          "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
    attributes = raw.get("NonKeyAttributes")
    if attributes is not None and (not isinstance(attributes, list)
                                   or not all(isinstance(a, str) for a in attributes)):
        raise fields.wrong_type("NonKeyAttributes", "a list of strings")
    if kind is None:
        raise invalid("Unknown ProjectionType: null")
    if kind == "INCLUDE":
        if not attributes:
            raise invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
        for name in attributes:
            if attributes.count(name) > 1:
                raise invalid(f"Duplicate attribute name in NonKeyAttributes: {name}")
            if not name:
                raise constraint_error(name, member + ".projection.nonKeyAttributes",
                                  "Member must have length greater than or equal to 1")
        return Projection("INCLUDE", tuple(attributes))
    if attributes is not None:
        raise invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    return Projection(kind)


def _check_projected_count(indexes: list[IndexSchema]) -> None:
    total = sum(len(ix.projection.non_key_attributes) for ix in indexes)
    if total > MAX_PROJECTED:
        raise invalid("Number of projected attributes in all indexes exceeds limit of "
                       f"{MAX_PROJECTED}, number of projected attributes:{total}")


def _index_throughput(spec: dict[str, Any], name: str, local: bool,
                      billing_mode: str) -> tuple[int, int]:
    throughput = fields.optional_map(spec, "ProvisionedThroughput")
    if local:
        if throughput is not None:
            raise invalid("ProvisionedThroughput should not be specified for index: "
                           f"{name}")
        return 0, 0
    if billing_mode == "PAY_PER_REQUEST":
        if throughput is not None:
            raise invalid(f"ProvisionedThroughput should not be specified for index: {name} "
                           "when BillingMode is PAY_PER_REQUEST")
        return 0, 0
    if throughput is None:
        raise invalid(f"ProvisionedThroughput must be specified for index: {name}")
    return parse_units(throughput, "provisionedThroughput")


def parse_units(throughput: dict[str, Any], member: str) -> tuple[int, int]:
    rcu = fields.optional_int(throughput, "ReadCapacityUnits")
    wcu = fields.optional_int(throughput, "WriteCapacityUnits")
    for field, value in (("readCapacityUnits", rcu), ("writeCapacityUnits", wcu)):
        if value is None:
            raise constraint_error("null", f"{member}.{field}", "Member must not be null")
        if value < 1:
            raise constraint_error(value, f"{member}.{field}",
                              "Member must have value greater than or equal to 1")
    assert rcu is not None and wcu is not None
    return rcu, wcu


# --- items ------------------------------------------------------------------------------------


def check_item(table: TableSchema, item: Item) -> None:
    """An item written to an indexed table: each index key attribute it has must have the
    index's type and must not be empty (items without it are simply not in the index)."""
    keys = table.key_names
    for index in table.indexes:
        for attr in index.partition_key + index.sort_key:
            if attr.name in keys:
                continue  # checked as the table's key
            value = item.get(attr.name)
            if value is None:
                continue
            kind = attribute_type(value)
            if kind != attr.type:
                raise invalid(f"Type mismatch for Index Key {attr.name} Expected: {attr.type} "
                               f"Actual: {kind} IndexName: {index.name}")
            if (kind == "S" and value["S"] == "") or (kind == "B" and not decode_binary(value["B"])):
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                    f"value. IndexName: {index.name}, IndexKey: {attr.name}")
