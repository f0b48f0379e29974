"""Vector indexes, pure: CreateTable's ``VectorIndexes`` and UpdateTable's ``Create``, the checks
an item written to a table with vector indexes passes, and the values an index keeps of an item.

docs/vector-search.md says what is supported; tests/test_vector_search.py pins the messages.
Messages quoted from AWS's "Troubleshooting vector indexes" page are DynamoDB's; the others are
the server's own, worded as DynamoDB words the like checks of secondary indexes.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, NoReturn

import numpy as np

from alternator import fields
from alternator.errors import ValidationException
from alternator.indexes import check_index_name, constraint_error, invalid, parse_projection
from alternator.schema import KeyAttribute, Projection, TableSchema, VectorIndexSchema
from alternator.storage.codec import encode_sortable
from alternator.values import Item, attribute_type, decode_binary

DISTANCES = ("COSINE", "DOT_PRODUCT", "EUCLIDEAN")
# botocore's SearchVectorList has at most 4096 members; an index holds no longer vector.
MAX_DIMENSIONS = 4096
# The largest finite 32-bit float: vectors are kept as 32-bit floats (docs/vector-search.md).
MAX_FLOAT32 = 3.4028234663852886e38


# --- CreateTable / UpdateTable ----------------------------------------------------------------


def with_vector_indexes(schema: TableSchema, req: fields.Request) -> TableSchema:
    """The CreateTable schema with its ``VectorIndexes``, after DynamoDB's checks."""
    specs = fields.optional_list(req, "VectorIndexes")
    if specs is None:
        return schema
    if not specs:
        raise invalid("List of VectorIndexes is empty")
    definitions = {a.name: a.type for a in schema.attribute_definitions}
    indexes: list[VectorIndexSchema] = []
    for i, spec in enumerate(specs, 1):
        index = parse_vector_index(spec, f"vectorIndexes.{i}.member", definitions, schema)
        check_compatible(replace(schema, vector_indexes=tuple(indexes)), index)
        indexes.append(index)
    return replace(schema, vector_indexes=tuple(indexes))


def check_compatible(table: TableSchema, index: VectorIndexSchema) -> None:
    """A new vector index against the table's other indexes: a unique name, and the same
    dimensions as every other vector index on its attribute."""
    if table.billing_mode != "PAY_PER_REQUEST":
        raise invalid("Vector indexes are supported only on tables that use on-demand "
                       "capacity mode (BillingMode PAY_PER_REQUEST)")
    if table.index(index.name) is not None or table.vector_index(index.name) is not None:
        raise invalid(f"Duplicate index name: {index.name}")
    for other in table.vector_indexes:
        if other.attribute == index.attribute and other.dimensions != index.dimensions:
            raise invalid(
                f"Vector indexes on one attribute must have the same Dimensions: index "
                f"{index.name} has {index.dimensions} on attribute {index.attribute}, index "
                f"{other.name} has {other.dimensions}")
    keys = set(table.key_names) | {a.name for ix in table.indexes
                                   for a in ix.partition_key + ix.sort_key}
    if index.attribute in keys:
        raise invalid(f"The vector attribute {index.attribute} of index {index.name} is a key "
                       "attribute of the table or of a secondary index")


def parse_vector_index(spec: Any, member: str, definitions: dict[str, str],
                       table: TableSchema) -> VectorIndexSchema:
    """One vector index specification (VectorIndex, CreateVectorIndexAction)."""
    if not isinstance(spec, dict):
        raise fields.wrong_type(member, "a structure")
    for required, field in (("IndexName", "indexName"), ("VectorAttribute", "vectorAttribute"),
                            ("Projection", "projection"), ("Dimensions", "dimensions"),
                            ("DistanceFunction", "distanceFunction")):
        if spec.get(required) is None:
            raise constraint_error("null", f"{member}.{field}", "Member must not be null")
    name = fields.require_str(spec, "IndexName")
    check_index_name(name, member + ".indexName")
    vector = fields.require_map(spec, "VectorAttribute")
    attribute = fields.require_str(vector, "AttributeName")
    if not 1 <= len(attribute) <= 255:
        bound = "greater than or equal to 1" if not attribute else "less than or equal to 255"
        raise constraint_error(attribute, f"{member}.vectorAttribute.attributeName",
                          f"Member must have length {bound}")
    dimensions = fields.optional_int(spec, "Dimensions")
    assert dimensions is not None
    if dimensions < 1:
        raise constraint_error(dimensions, member + ".dimensions",
                          "Member must have value greater than or equal to 1")
    if dimensions > MAX_DIMENSIONS:
        raise invalid(f"Dimensions {dimensions} of index {name} exceeds the maximum of "
                       f"{MAX_DIMENSIONS}")
    distance = fields.require_str(spec, "DistanceFunction")
    if distance not in DISTANCES:
        raise constraint_error(distance, member + ".distanceFunction",
                          "Member must satisfy enum value set: [COSINE, DOT_PRODUCT, EUCLIDEAN]")
    partition_key, filters = _parse_search_schema(spec, member, definitions, name, attribute)
    projection = parse_projection(fields.require_map(spec, "Projection"), member)
    kept = set(table.key_names) | {attribute} | {a.name for a in filters}
    if partition_key is not None:
        kept.add(partition_key.name)
    projection = Projection(projection.kind, tuple(
        a for a in projection.non_key_attributes if a not in kept))
    return VectorIndexSchema(name, attribute, dimensions, distance, partition_key, filters,
                             projection, id=uuid.uuid4().hex)


def _parse_search_schema(spec: dict[str, Any], member: str, definitions: dict[str, str],
                         name: str, attribute: str,
                         ) -> tuple[KeyAttribute | None, tuple[KeyAttribute, ...]]:
    raw = spec.get("SearchSchema")
    if raw is None:
        return None, ()
    if not isinstance(raw, list):
        raise fields.wrong_type("SearchSchema", "a list")
    if not raw:
        raise constraint_error("[]", member + ".searchSchema",
                          "Member must have length greater than or equal to 1")
    partition_key: KeyAttribute | None = None
    filters: list[KeyAttribute] = []
    seen: set[str] = set()
    for i, element in enumerate(raw, 1):
        if not isinstance(element, dict):
            raise fields.wrong_type("SearchSchema", "a structure")
        attr = fields.require_str(element, "AttributeName")
        kind = fields.require_str(element, "SearchSchemaElementType")
        if kind not in ("HASH", "INLINE_FILTER"):
            raise constraint_error(kind, f"{member}.searchSchema.{i}.member.searchSchemaElementType",
                              "Member must satisfy enum value set: [HASH, INLINE_FILTER]")
        if attr not in definitions:
            raise ValidationException(
                "One element in SearchSchema is not defined in attribute definitions")
        if attr in seen:
            raise invalid(f"Duplicate attribute in SearchSchema: {attr} IndexName: {name}")
        if attr == attribute:
            raise invalid(f"The vector attribute {attribute} cannot be in the SearchSchema of "
                           f"index {name}")
        seen.add(attr)
        if kind == "HASH":
            if partition_key is not None:
                raise invalid(f"SearchSchema of index {name} has more than one HASH element")
            partition_key = KeyAttribute(attr, definitions[attr])
        else:
            filters.append(KeyAttribute(attr, definitions[attr]))
    return partition_key, tuple(filters)


# --- items ------------------------------------------------------------------------------------


def check_item(table: TableSchema, item: Item) -> None:
    """An item written to a table with vector indexes: each vector attribute it has is a list
    of numbers of the index's length, representable as 32-bit floats (not all zero for a
    COSINE index), and each search attribute it has is of its defined type and not empty.
    Items without them are simply not in the index (or not matched by that filter)."""
    for index in table.vector_indexes:
        value = item.get(index.attribute)
        if value is not None:
            _check_vector(index, value)
        for attr in index.search_attributes:
            if attr.name in table.key_names:
                continue  # checked as the table's key
            search_value = item.get(attr.name)
            if search_value is None:
                continue
            kind = attribute_type(search_value)
            if kind != attr.type:
                raise invalid(f"Type mismatch for Index Key {attr.name} Expected: {attr.type} "
                               f"Actual: {kind} IndexName: {index.name}")
            if (kind == "S" and search_value["S"] == "") or \
                    (kind == "B" and not decode_binary(search_value["B"])):
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a "
                    "vector index search attribute is not supported. The AttributeValue "
                    f"cannot contain an empty {'string' if kind == 'S' else 'binary'} value. "
                    f"IndexName: {index.name}, Attribute: {attr.name}")


def _check_vector(index: VectorIndexSchema, value: dict[str, Any]) -> np.ndarray:
    """The vector as float64s, or ValidationException: the common case (a list of ``N`` of the
    index's length) is checked as one array; anything else element by element, for the
    message naming the first offending element."""
    elements = value.get("L") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(elements, list) and len(elements) == index.dimensions:
        try:
            numbers = np.array([float(e["N"]) for e in elements if len(e) == 1],
                               dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            numbers = None
        if numbers is not None and len(numbers) == index.dimensions \
                and float(np.max(np.abs(numbers))) <= MAX_FLOAT32:
            if index.distance == "COSINE" and not numbers.any():
                raise invalid(f"Vector attribute {index.attribute} is a zero vector, which "
                               f"index {index.name} (COSINE) cannot hold")
            return numbers
    _refuse_vector(index, value)


def _refuse_vector(index: VectorIndexSchema, value: dict[str, Any]) -> NoReturn:
    kind = attribute_type(value)
    if kind != "L":
        raise invalid(f"Invalid type for vector attribute {index.attribute}: expected a list "
                       f"of numbers (L of N), actual: {kind}. IndexName: {index.name}")
    elements = value["L"]
    for i, element in enumerate(elements):
        element_kind = attribute_type(element)
        if element_kind != "N":
            raise invalid(f"Invalid type for element [{i}] of vector attribute "
                           f"{index.attribute}: expected: N, actual: {element_kind}. "
                           f"IndexName: {index.name}")
        if abs(float(element["N"])) > MAX_FLOAT32:
            raise invalid(f"Element [{i}] of vector attribute {index.attribute} is out of the "
                           f"range of a 32-bit float. IndexName: {index.name}")
    if len(elements) != index.dimensions:
        raise invalid(f"Vector attribute {index.attribute} has {len(elements)} dimensions, "
                       f"but index {index.name} has {index.dimensions}")
    if index.distance == "COSINE" and not any(float(e["N"]) for e in elements):
        raise invalid(f"Vector attribute {index.attribute} is a zero vector, which index "
                       f"{index.name} (COSINE) cannot hold")
    # Every check passed element by element: only a value numpy cannot parse gets here.
    raise invalid(f"Invalid vector attribute {index.attribute}. IndexName: {index.name}")


def vector_of(index: VectorIndexSchema, item: Item) -> tuple[float, ...] | None:
    """The item's vector in the index (None when the item has no usable one: an item written
    before the index existed may hold anything under its attribute)."""
    value = item.get(index.attribute)
    if value is None:
        return None
    try:
        numbers = _check_vector(index, value)
    except ValidationException:
        return None
    return float32s(numbers)


def float32s(values: list[float] | np.ndarray) -> tuple[float, ...]:
    """The values rounded to 32-bit floats, as the index keeps them."""
    return tuple(np.asarray(values, dtype=np.float32).tolist())


def filter_text(attr: KeyAttribute, value: dict[str, Any] | None) -> str | None:
    """How an inline filter's value is kept and compared: the hex of its order-preserving
    encoding (equal numbers written differently are equal), None when absent or mistyped."""
    if value is None or attribute_type(value) != attr.type:
        return None
    return encode_sortable(attr.type, value).hex()
