"""SearchVectors: the TopK items of a vector index nearest a search vector (docs/vector-search.md).

Everything in the request is checked before storage is asked: the index and its state, TopK,
the search vector, the SearchConditionExpression (equalities on the index's HASH and
INLINE_FILTER attributes, joined with AND), the projection and the unused names and values.
The backend returns candidates with their stored vectors (exactly the nearest on SQLite,
Cassandra's approximate ones); they are scored here, the same way for both.
"""

from __future__ import annotations

from typing import Any

import orjson

from alternator import expressions as expr
from alternator import fields, similarity
from alternator.auth import permissions
from alternator.derived import encode_key, vector_partition
from alternator.errors import ValidationException
from alternator.expressions.ast import And, Compare, Condition, Path, Value
from alternator.operations import capacity
from alternator.operations.context import RequestContext, named_table
from alternator.schema import TableSchema, VectorIndexSchema, validate_table_name
from alternator.values import AttributeValue, attribute_type, item_size
from alternator.vector_indexes import MAX_DIMENSIONS, MAX_FLOAT32, filter_text, float32s

MAX_TOP_K = 100


async def search_vectors(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    table = await named_table(ctx, _table_name(ctx, req), permissions.SELECT)
    mode = capacity.return_mode(req)
    name = fields.require_str(req, "IndexName")
    index = table.vector_index(name)
    if index is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    if index.status != "ACTIVE":
        raise ValidationException(f"Cannot search backfilling vector index: {name}")
    top_k = _top_k(req)
    vector = _search_vector(req, index)
    binder = expr.Binder(fields.optional_map(req, "ExpressionAttributeNames"),
                         fields.optional_map(req, "ExpressionAttributeValues"))
    text = fields.optional_str(req, "SearchConditionExpression")
    equalities = _equalities(binder.search_condition(text), index) if text is not None else {}
    projection_text = fields.optional_str(req, "ProjectionExpression")
    projection = binder.projection(projection_text) if projection_text is not None else None
    binder.finish()
    partition = None
    if index.partition_key is not None:
        value = equalities.get(index.partition_key.name)
        if value is None:
            raise ValidationException(
                "SearchConditionExpression must be provided when SearchSchema has a HASH key")
        if attribute_type(value) != index.partition_key.type:
            raise _type_mismatch()
        partition = vector_partition(index, value)
    filters: dict[int, str] = {}
    for i, attr in enumerate(index.filters):
        if attr.name in equalities:
            wanted = filter_text(attr, equalities[attr.name])
            if wanted is None:
                raise _type_mismatch()
            filters[i] = wanted
    hits = await ctx.storage.search_vectors(table, index, partition, filters, vector, top_k)
    scored = []
    for value_json, stored in hits:
        item = orjson.loads(value_json)
        scored.append((similarity.exact_score(index.distance, vector, stored),
                       encode_key(table, item), item))
    higher = similarity.higher_is_nearer(index.distance)
    scored.sort(key=lambda s: (-s[0] if higher else s[0], s[1]))
    results = [{"Item": item if projection is None else expr.project(projection, item),
                "Score": score} for score, _, item in scored[:top_k]]
    return _answer(table, results, mode, vector)


def _type_mismatch() -> ValidationException:
    return ValidationException("One or more parameter values were invalid: Condition parameter "
                               "type does not match schema type")


def _answer(table: TableSchema, results: list[dict[str, Any]], mode: capacity.Mode,
            vector: tuple[float, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"SearchResults": results}
    if mode != "NONE":
        size = 4 * len(vector) + sum(item_size(r["Item"]) for r in results)
        out["ConsumedCapacity"] = {"VectorSearchRequestBytes": float(size)}
    return out


def _table_name(ctx: RequestContext, req: dict[str, Any]) -> str:
    """TableName: a name or the table's ARN."""
    name = fields.require_str(req, "TableName")
    if name.startswith("arn:"):
        prefix = f"arn:aws:dynamodb:{ctx.config.region}:000000000000:table/"
        rest = name[len(prefix):] if name.startswith(prefix) else ""
        if not rest or "/" in rest:
            raise ValidationException(f"Invalid TableArn: {name}")
        return validate_table_name(rest)
    return validate_table_name(name)


def _top_k(req: dict[str, Any]) -> int:
    top_k = fields.optional_int(req, "TopK")
    if top_k is None:
        raise ValidationException("1 validation error detected: Value null at 'topK' failed to "
                                  "satisfy constraint: Member must not be null")
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValidationException("Provided TopK value is out of valid range")
    return top_k


def _search_vector(req: dict[str, Any], index: VectorIndexSchema) -> tuple[float, ...]:
    raw = fields.optional_list(req, "SearchVector")
    if raw is None:
        raise ValidationException("1 validation error detected: Value null at 'searchVector' "
                                  "failed to satisfy constraint: Member must not be null")
    if not 1 <= len(raw) <= MAX_DIMENSIONS:
        bound = "greater than or equal to 1" if not raw else \
            f"less than or equal to {MAX_DIMENSIONS}"
        raise ValidationException("1 validation error detected: Value at 'searchVector' failed "
                                  f"to satisfy constraint: Member must have length {bound}")
    values = []
    for i, element in enumerate(raw):
        if not isinstance(element, dict) or list(element) != ["N"] \
                or not isinstance(element["N"], str):
            raise ValidationException(f"Invalid SearchVector: element [{i}] is not a number (N)")
        try:
            number = float(element["N"])
        except ValueError:
            raise ValidationException(
                f"Invalid SearchVector: element [{i}] is not a number (N)") from None
        if not abs(number) <= MAX_FLOAT32:
            raise ValidationException(
                f"Invalid SearchVector: element [{i}] is out of the range of a 32-bit float")
        values.append(number)
    if len(values) != index.dimensions:
        raise ValidationException(
            f"Invalid SearchVector: it has {len(values)} dimensions, but index {index.name} has "
            f"{index.dimensions}")
    if index.distance == "COSINE" and not any(values):
        raise ValidationException("Invalid SearchVector: a zero vector has no cosine distance")
    return float32s(values)


def _equalities(condition: Condition, index: VectorIndexSchema) -> dict[str, AttributeValue]:
    """The SearchConditionExpression as attribute -> the value it must equal."""
    searchable = {a.name for a in index.search_attributes}
    out: dict[str, AttributeValue] = {}
    for leaf in _leaves(condition):
        if not isinstance(leaf, Compare) or leaf.op != "=":
            raise ValidationException("Invalid comparator used in SearchConditionExpression")
        path, value = leaf.left, leaf.right
        if isinstance(path, Value) and isinstance(value, Path):
            path, value = value, path
        if not isinstance(path, Path) or not isinstance(value, Value):
            raise ValidationException("SearchConditionExpression must compare an attribute of "
                                      "the SearchSchema with a value (attribute = :value)")
        elements = path.bound()
        if len(elements) != 1 or elements[0] not in searchable:
            raise ValidationException(
                f"SearchConditionExpression may only use the top-level attributes of the "
                f"SearchSchema of index {index.name}: {', '.join(sorted(searchable)) or 'none'}")
        attribute = str(elements[0])
        if attribute in out:
            raise ValidationException("SearchConditionExpression must only contain one "
                                      f"condition per attribute: {attribute}")
        out[attribute] = value.value
    return out


def _leaves(condition: Condition) -> list[Condition]:
    if isinstance(condition, And):
        return [leaf for part in condition.conditions for leaf in _leaves(part)]
    return [condition]
