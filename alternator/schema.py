"""Table schemas: parsing CreateTable, checking keys, rendering DescribeTable.

A :class:`TableSchema` is what both storage backends persist about a table, as JSON (the same
on both). Every part has a typed field: where the backend placed the table (``placement``), its
secondary indexes, its stream. Fields added later default when an older JSON lacks them.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import orjson

from alternator import fields
from alternator.errors import ValidationException
from alternator.values import AttributeValue, Item, attribute_type, decode_binary, validate_value

KEY_TYPES = ("S", "N", "B")
# The tag of the test-only derived structure (alternator/derived.py).
SHADOW_TAG = "test:shadow"
# DynamoDB limits a key attribute's name to 255 bytes (other names may be up to 64 KB).
MAX_KEY_NAME_BYTES = 255
# Names with this prefix address Scylla's internal tables (system_tables.py).
INTERNAL_TABLE_PREFIX = ".scylla.alternator."
_TABLE_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-]+")
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024


@dataclass(frozen=True, slots=True)
class KeyAttribute:
    name: str
    type: str  # "S" | "N" | "B"


@dataclass(frozen=True, slots=True)
class Projection:
    """Which attributes a secondary index holds: ``ALL``, ``KEYS_ONLY`` or ``INCLUDE``."""

    kind: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexSchema:
    """A secondary index: global (own partition key) or local (the table's partition key).

    A global index's key may have up to four partition-key and four sort-key attributes
    (DynamoDB's multi-attribute keys); a local index has the table's partition key and one sort
    key. ``id`` is unique to this index's creation: its entries live under it (docs/storage.md),
    so entries of a deleted index never reach a later one of the same name. ``status`` is
    ``CREATING`` while UpdateTable's backfill runs, then ``ACTIVE``; ``backfilled`` counts the
    backfill segments done (operations/backfill.py).
    """

    name: str
    local: bool
    partition_key: tuple[KeyAttribute, ...]
    sort_key: tuple[KeyAttribute, ...]
    projection: Projection = Projection()
    id: str = ""
    status: str = "ACTIVE"
    read_capacity: int = 0
    write_capacity: int = 0
    backfilled: int = 0

    @property
    def space(self) -> str:
        """The derived-row space holding this index's entries."""
        return "index:" + (self.id or self.name)

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.partition_key + self.sort_key)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "local": self.local,
                "partition_key": [[a.name, a.type] for a in self.partition_key],
                "sort_key": [[a.name, a.type] for a in self.sort_key],
                "projection": [self.projection.kind, list(self.projection.non_key_attributes)],
                "id": self.id, "status": self.status, "read_capacity": self.read_capacity,
                "write_capacity": self.write_capacity, "backfilled": self.backfilled}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IndexSchema:
        kind, include = d["projection"]
        return cls(d["name"], d["local"], tuple(KeyAttribute(*a) for a in d["partition_key"]),
                   tuple(KeyAttribute(*a) for a in d["sort_key"]),
                   Projection(kind, tuple(include)), d.get("id", ""),
                   d.get("status", "ACTIVE"), d.get("read_capacity", 0),
                   d.get("write_capacity", 0), d.get("backfilled", 0))


@dataclass(frozen=True, slots=True)
class VectorIndexSchema:
    """A vector index (docs/vector-search.md): the attribute holding the vector, its number of
    dimensions, the distance function, the optional ``HASH`` attribute that partitions the
    index, the ``INLINE_FILTER`` attributes, the projection. ``id``, ``status`` and
    ``backfilled`` as for :class:`IndexSchema`."""

    name: str
    attribute: str
    dimensions: int
    distance: str  # "COSINE" | "EUCLIDEAN" | "DOT_PRODUCT"
    partition_key: KeyAttribute | None = None
    filters: tuple[KeyAttribute, ...] = ()
    projection: Projection = Projection()
    id: str = ""
    status: str = "ACTIVE"
    backfilled: int = 0

    @property
    def space(self) -> str:
        """The derived-row space holding this index's entries."""
        return "vector:" + (self.id or self.name)

    @property
    def search_attributes(self) -> tuple[KeyAttribute, ...]:
        """The SearchSchema's attributes: the HASH one first, then the inline filters."""
        head = (self.partition_key,) if self.partition_key is not None else ()
        return head + self.filters

    def to_json(self) -> dict[str, Any]:
        pk = self.partition_key
        return {"name": self.name, "attribute": self.attribute, "dimensions": self.dimensions,
                "distance": self.distance, "partition_key": [pk.name, pk.type] if pk else None,
                "filters": [[a.name, a.type] for a in self.filters],
                "projection": [self.projection.kind, list(self.projection.non_key_attributes)],
                "id": self.id, "status": self.status, "backfilled": self.backfilled}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VectorIndexSchema:
        kind, include = d["projection"]
        pk = d.get("partition_key")
        return cls(d["name"], d["attribute"], d["dimensions"], d["distance"],
                   KeyAttribute(*pk) if pk else None,
                   tuple(KeyAttribute(*a) for a in d.get("filters", [])),
                   Projection(kind, tuple(include)), d.get("id", ""),
                   d.get("status", "ACTIVE"), d.get("backfilled", 0))


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """One stream of the table (docs/streams.md): its view type, its label (which names it),
    when it started and, once disabled, when it closed; how its records are sharded."""

    view_type: str
    label: str
    started: float = 0.0  # epoch seconds
    closed: float | None = None
    shards: int = 4
    shard_period: float = 3600.0

    def to_json(self) -> list[Any]:
        return [self.view_type, self.label, self.started, self.closed, self.shards,
                self.shard_period]


@dataclass(frozen=True, slots=True)
class TableSchema:
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    attribute_definitions: tuple[KeyAttribute, ...]
    table_id: str
    created_at: float
    billing_mode: str = "PROVISIONED"
    read_capacity: int = 0
    write_capacity: int = 0
    tags: tuple[tuple[str, str], ...] = ()
    # Where the backend keeps the table (Cassandra: keyspace and table); set by create_table.
    placement: tuple[str, ...] = ()
    indexes: tuple[IndexSchema, ...] = ()
    # The enabled stream, if any, and the disabled ones still readable.
    stream: StreamSettings | None = None
    old_streams: tuple[StreamSettings, ...] = ()
    # Whether UpdateTable ever changed the billing mode, and when it last became
    # PAY_PER_REQUEST (DescribeTable's BillingModeSummary).
    billing_mode_changed: bool = False
    last_pay_per_request: float | None = None
    # The Time to Live attribute, when TTL is enabled (operations/ttl.py).
    ttl_attribute: str | None = None
    vector_indexes: tuple[VectorIndexSchema, ...] = ()

    @property
    def keeps_derived_rows(self) -> bool:
        """Whether the table has structures derived from its items (docs/write-path.md)."""
        return self.has_indexes or self.tag(SHADOW_TAG) is not None

    @property
    def has_indexes(self) -> bool:
        """Whether the table has secondary or vector indexes (whose entries writes keep)."""
        return bool(self.indexes) or bool(self.vector_indexes)

    def vector_index(self, name: str) -> VectorIndexSchema | None:
        for index in self.vector_indexes:
            if index.name == name:
                return index
        return None

    def index(self, name: str) -> IndexSchema | None:
        for index in self.indexes:
            if index.name == name:
                return index
        return None

    @property
    def key_names(self) -> tuple[str, ...]:
        if self.sort_key is None:
            return (self.partition_key.name,)
        return (self.partition_key.name, self.sort_key.name)

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    def tag(self, key: str) -> str | None:
        """One tag's value, without building a dict (this runs on every write)."""
        for name, value in self.tags:
            if name == key:
                return value
        return None

    def with_tags(self, tags: dict[str, str]) -> TableSchema:
        return replace(self, tags=tuple(sorted(tags.items())))

    # --- persistence (the same JSON on both backends) -----------------------------------------

    def to_json(self) -> bytes:
        return orjson.dumps({
            "name": self.name,
            "partition_key": [self.partition_key.name, self.partition_key.type],
            "sort_key": [self.sort_key.name, self.sort_key.type] if self.sort_key else None,
            "attribute_definitions": [[a.name, a.type] for a in self.attribute_definitions],
            "table_id": self.table_id,
            "created_at": self.created_at,
            "billing_mode": self.billing_mode,
            "read_capacity": self.read_capacity,
            "write_capacity": self.write_capacity,
            "tags": [list(t) for t in self.tags],
            "placement": list(self.placement),
            "indexes": [i.to_json() for i in self.indexes],
            "stream": self.stream.to_json() if self.stream else None,
            "old_streams": [st.to_json() for st in self.old_streams],
            "billing_mode_changed": self.billing_mode_changed,
            "last_pay_per_request": self.last_pay_per_request,
            "ttl_attribute": self.ttl_attribute,
            "vector_indexes": [v.to_json() for v in self.vector_indexes],
        })

    @classmethod
    def from_json(cls, data: bytes | str) -> TableSchema:
        d = orjson.loads(data)
        sk = d.get("sort_key")
        placement = d.get("placement")
        if placement is None:  # written before placements were typed
            old = d.get("settings", {})
            placement = [old["cql_keyspace"], old["cql_table"]] if "cql_keyspace" in old else []
        stream = d.get("stream")
        return cls(
            name=d["name"],
            partition_key=KeyAttribute(*d["partition_key"]),
            sort_key=KeyAttribute(*sk) if sk else None,
            attribute_definitions=tuple(KeyAttribute(*a) for a in d["attribute_definitions"]),
            table_id=d["table_id"],
            created_at=d["created_at"],
            billing_mode=d.get("billing_mode", "PROVISIONED"),
            read_capacity=d.get("read_capacity", 0),
            write_capacity=d.get("write_capacity", 0),
            tags=tuple((k, v) for k, v in d.get("tags", [])),
            placement=tuple(placement),
            indexes=tuple(IndexSchema.from_json(i) for i in d.get("indexes", [])),
            stream=StreamSettings(*stream) if stream else None,
            old_streams=tuple(StreamSettings(*st) for st in d.get("old_streams", [])),
            billing_mode_changed=d.get("billing_mode_changed", False),
            last_pay_per_request=d.get("last_pay_per_request"),
            ttl_attribute=d.get("ttl_attribute"),
            vector_indexes=tuple(VectorIndexSchema.from_json(v)
                                 for v in d.get("vector_indexes", [])),
        )


# --- table names ------------------------------------------------------------------------------


def validate_table_name(name: str, member: str = "tableName") -> str:
    errors = []
    if not _TABLE_NAME_RE.fullmatch(name):
        errors.append(
            f"Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    if len(name) < 3:
        errors.append(
            f"Value '{name}' at '{member}' failed to satisfy constraint: Member must have length "
            "greater than or equal to 3"
        )
    if len(name) > 255:
        errors.append(
            f"Value '{name}' at '{member}' failed to satisfy constraint: Member must have length "
            "less than or equal to 255"
        )
    if errors:
        count = len(errors)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)
        )
    return name


def read_table_name(req: fields.Request) -> str:
    return validate_table_name(fields.require_str(req, "TableName"))


# --- CreateTable ------------------------------------------------------------------------------


def parse_create_table(
    req: fields.Request, tags: dict[str, str], now: float | None = None
) -> TableSchema:
    name = read_table_name(req)
    if name.startswith(INTERNAL_TABLE_PREFIX):
        raise ValidationException(
            f"Prefix {INTERNAL_TABLE_PREFIX} is reserved for accessing internal tables"
        )
    definitions = parse_attribute_definitions(fields.require_list(req, "AttributeDefinitions"))
    key_schema = fields.require_list(req, "KeySchema")
    partition_key, sort_key = _parse_key_schema(key_schema, definitions)
    billing_mode, rcu, wcu = parse_billing(req)
    return TableSchema(
        name=name,
        partition_key=partition_key,
        sort_key=sort_key,
        attribute_definitions=tuple(KeyAttribute(n, t) for n, t in definitions.items()),
        table_id=str(uuid.uuid4()),
        created_at=time.time() if now is None else now,
        billing_mode=billing_mode,
        read_capacity=rcu,
        write_capacity=wcu,
        tags=tuple(sorted(tags.items())),
    )


def check_key_name(name: str, member: str) -> None:
    """A key attribute's name: 1 to 255 bytes (tests/test_names_limits.py)."""
    if not name:
        bound = "greater than or equal to 1"
    elif len(name.encode()) > MAX_KEY_NAME_BYTES:
        bound = f"less than or equal to {MAX_KEY_NAME_BYTES}"
    else:
        return
    raise ValidationException(
        f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy "
        f"constraint: Member must have length {bound}"
    )


def parse_attribute_definitions(raw: list[Any]) -> dict[str, str]:
    """AttributeDefinitions of CreateTable or UpdateTable: attribute name -> key type."""
    out: dict[str, str] = {}
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise fields.wrong_type("AttributeDefinitions", "a structure")
        name = fields.require_str(entry, "AttributeName")
        check_key_name(name, f"attributeDefinitions.{i}.member.attributeName")
        kind = fields.require_str(entry, "AttributeType")
        if kind not in KEY_TYPES:
            raise ValidationException(
                f"1 validation error detected: Value '{kind}' at "
                f"'attributeDefinitions.{i}.member.attributeType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [B, N, S]"
            )
        if name in out:
            raise ValidationException(f"Duplicate AttributeName={name} in AttributeDefinitions")
        out[name] = kind
    return out


def _parse_key_schema(
    raw: list[Any], definitions: dict[str, str]
) -> tuple[KeyAttribute, KeyAttribute | None]:
    if not 1 <= len(raw) <= 2:
        bound = "greater than or equal to 1" if not raw else "less than or equal to 2"
        raise ValidationException(
            f"1 validation error detected: Value '{raw}' at 'keySchema' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    elements: list[tuple[str, str]] = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise fields.wrong_type("KeySchema", "a structure")
        name = fields.require_str(entry, "AttributeName")
        check_key_name(name, f"keySchema.{i}.member.attributeName")
        key_type = fields.require_str(entry, "KeyType")
        if key_type not in ("HASH", "RANGE"):
            raise ValidationException(
                f"1 validation error detected: Value '{key_type}' at 'keySchema.{i}.member.keyType' "
                "failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
            )
        elements.append((name, key_type))
    if elements[0][1] != "HASH":
        raise ValidationException("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2:
        if elements[1][1] != "RANGE":
            raise ValidationException(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        if elements[0][0] == elements[1][0]:
            raise ValidationException(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )
    missing = [n for n, _ in elements if n not in definitions]
    if missing:
        raise ValidationException(
            "One or more parameter values were invalid: Some index key attributes are not "
            f"defined in AttributeDefinitions. Keys: [{', '.join(n for n, _ in elements)}], "
            f"AttributeDefinitions: [{', '.join(definitions)}]"
        )
    pk = KeyAttribute(elements[0][0], definitions[elements[0][0]])
    sk = KeyAttribute(elements[1][0], definitions[elements[1][0]]) if len(elements) == 2 else None
    return pk, sk


def parse_billing(req: fields.Request) -> tuple[str, int, int]:
    mode = fields.optional_enum(req, "BillingMode", ("PROVISIONED", "PAY_PER_REQUEST"))
    throughput = fields.optional_map(req, "ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if throughput is not None:
            raise ValidationException(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
        return mode, 0, 0
    if throughput is None:
        # BillingMode PROVISIONED (the default) without ProvisionedThroughput.
        raise ValidationException("No provisioned throughput specified for the table")
    rcu = fields.optional_int(throughput, "ReadCapacityUnits")
    wcu = fields.optional_int(throughput, "WriteCapacityUnits")
    # Inside a given ProvisionedThroughput both members are required.
    missing = [m for m, v in (("readCapacityUnits", rcu), ("writeCapacityUnits", wcu))
               if v is None]
    if missing:
        count = len(missing)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(
                f"Value null at 'provisionedThroughput.{m}' failed to satisfy constraint: "
                "Member must not be null" for m in missing)
        )
    assert rcu is not None and wcu is not None
    for member, value in (("readCapacityUnits", rcu), ("writeCapacityUnits", wcu)):
        if value < 1:
            raise ValidationException(
                f"1 validation error detected: Value '{value}' at "
                f"'provisionedThroughput.{member}' failed to satisfy constraint: Member must "
                "have value greater than or equal to 1"
            )
    return "PROVISIONED", rcu, wcu


# --- DescribeTable ----------------------------------------------------------------------------


def table_arn(schema: TableSchema, region: str) -> str:
    return f"arn:aws:dynamodb:{region}:000000000000:table/{schema.name}"


def stream_arn(region: str, table: str, label: str) -> str:
    return f"arn:aws:dynamodb:{region}:000000000000:table/{table}/stream/{label}"


def describe_stream_members(schema: TableSchema, region: str) -> dict[str, Any]:
    """DescribeTable's StreamSpecification, LatestStreamArn and LatestStreamLabel."""
    latest = schema.stream or (schema.old_streams[-1] if schema.old_streams else None)
    if latest is None:
        return {}
    out: dict[str, Any] = {}
    if schema.stream is not None:
        out["StreamSpecification"] = {"StreamEnabled": True,
                                      "StreamViewType": schema.stream.view_type}
    out["LatestStreamLabel"] = latest.label
    out["LatestStreamArn"] = stream_arn(region, schema.name, latest.label)
    return out


def with_billing_mode(schema: TableSchema, mode: str, rcu: int, wcu: int,
                      now: float | None = None) -> TableSchema:
    """The schema after an UpdateTable of its billing, remembering when it last went to
    PAY_PER_REQUEST, for DescribeTable's BillingModeSummary."""
    changed, last = schema.billing_mode_changed, schema.last_pay_per_request
    if mode != schema.billing_mode:
        if not changed:  # a table created PAY_PER_REQUEST was last switched to it when created
            last = schema.created_at if schema.billing_mode == "PAY_PER_REQUEST" else None
        if mode == "PAY_PER_REQUEST":
            last = time.time() if now is None else now
        changed = True
    return replace(schema, billing_mode=mode, read_capacity=rcu, write_capacity=wcu,
                   billing_mode_changed=changed, last_pay_per_request=last)


def _billing_mode_summary(schema: TableSchema) -> dict[str, Any] | None:
    if not schema.billing_mode_changed and schema.billing_mode != "PAY_PER_REQUEST":
        return None
    summary: dict[str, Any] = {"BillingMode": schema.billing_mode}
    last = schema.last_pay_per_request if schema.billing_mode_changed else schema.created_at
    if last is not None:
        summary["LastUpdateToPayPerRequestDateTime"] = last
    return summary


def describe_deleted(schema: TableSchema, region: str) -> dict[str, Any]:
    """DeleteTable's TableDescription: DynamoDB leaves out the key schema, the attribute
    definitions and the creation time (tests/test_tables_exactness.py)."""
    out = describe(schema, region, status="DELETING")
    for member in ("KeySchema", "AttributeDefinitions", "CreationDateTime"):
        del out[member]
    return out


def describe(schema: TableSchema, region: str, status: str = "ACTIVE") -> dict[str, Any]:
    key_schema = [{"AttributeName": schema.partition_key.name, "KeyType": "HASH"}]
    if schema.sort_key is not None:
        key_schema.append({"AttributeName": schema.sort_key.name, "KeyType": "RANGE"})
    out: dict[str, Any] = {
        "TableName": schema.name,
        # While an index is being created the table is UPDATING, as DynamoDB's is.
        "TableStatus": "UPDATING" if status == "ACTIVE" and (
            any(ix.status == "CREATING" for ix in schema.indexes)
            or any(vx.status == "CREATING" for vx in schema.vector_indexes)) else status,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": a.name, "AttributeType": a.type} for a in schema.attribute_definitions
        ],
        "CreationDateTime": schema.created_at,
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": schema.read_capacity,
            "WriteCapacityUnits": schema.write_capacity,
        },
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": table_arn(schema, region),
        "TableId": schema.table_id,
        "DeletionProtectionEnabled": False,
    }
    summary = _billing_mode_summary(schema)
    if summary is not None:
        out["BillingModeSummary"] = summary
    out.update(describe_indexes(schema, region))
    if schema.vector_indexes:
        out["VectorIndexes"] = describe_vector_indexes(schema, region)
    out.update(describe_stream_members(schema, region))
    return out


def describe_indexes(schema: TableSchema, region: str) -> dict[str, Any]:
    """DescribeTable's GlobalSecondaryIndexes and LocalSecondaryIndexes members."""
    out: dict[str, list[dict[str, Any]]] = {}
    arn = table_arn(schema, region)
    for index in schema.indexes:
        key_schema = [{"AttributeName": a.name, "KeyType": "HASH"} for a in index.partition_key]
        key_schema += [{"AttributeName": a.name, "KeyType": "RANGE"} for a in index.sort_key]
        projection: dict[str, Any] = {"ProjectionType": index.projection.kind}
        if index.projection.kind == "INCLUDE":
            projection["NonKeyAttributes"] = list(index.projection.non_key_attributes)
        entry: dict[str, Any] = {"IndexName": index.name, "KeySchema": key_schema,
                                 "Projection": projection}
        if not index.local:
            entry["IndexStatus"] = index.status
            if index.status == "CREATING":
                entry["Backfilling"] = True
            entry["ProvisionedThroughput"] = {
                "NumberOfDecreasesToday": 0, "ReadCapacityUnits": index.read_capacity,
                "WriteCapacityUnits": index.write_capacity}
        entry.update({"IndexSizeBytes": 0, "ItemCount": 0,
                      "IndexArn": f"{arn}/index/{index.name}"})
        out.setdefault("LocalSecondaryIndexes" if index.local else "GlobalSecondaryIndexes",
                       []).append(entry)
    return out


def describe_vector_indexes(schema: TableSchema, region: str) -> list[dict[str, Any]]:
    """DescribeTable's VectorIndexes: a VectorIndexDescription for each vector index."""
    out = []
    arn = table_arn(schema, region)
    for index in schema.vector_indexes:
        projection: dict[str, Any] = {"ProjectionType": index.projection.kind}
        if index.projection.kind == "INCLUDE":
            projection["NonKeyAttributes"] = list(index.projection.non_key_attributes)
        entry: dict[str, Any] = {
            "IndexName": index.name,
            "VectorAttribute": {"AttributeName": index.attribute},
            "Dimensions": index.dimensions,
            "DistanceFunction": index.distance,
            "Projection": projection,
            "IndexStatus": index.status,
        }
        search = [] if index.partition_key is None else [
            {"AttributeName": index.partition_key.name, "SearchSchemaElementType": "HASH"}]
        search += [{"AttributeName": a.name, "SearchSchemaElementType": "INLINE_FILTER"}
                   for a in index.filters]
        if search:
            entry["SearchSchema"] = search
        if index.status == "CREATING":
            entry["Backfilling"] = True
        entry.update({"IndexSizeBytes": 0, "ItemCount": 0,
                      "IndexArn": f"{arn}/index/{index.name}"})
        out.append(entry)
    return out


# --- keys -------------------------------------------------------------------------------------


def _key_error(message: str) -> ValidationException:
    return ValidationException("One or more parameter values were invalid: " + message)


def check_key_value(attr: KeyAttribute, value: AttributeValue, is_partition: bool) -> None:
    """Validate one key attribute's value against the schema (type, emptiness, length)."""
    kind = attribute_type(value)
    if kind != attr.type:
        raise _key_error(f"Type mismatch for key {attr.name} expected: {attr.type} actual: {kind}")
    inner = value[kind]
    if kind == "S":
        if not isinstance(inner, str):
            raise fields.wrong_type(attr.name, "a string")
        size = len(inner.encode())
    elif kind == "B":
        size = len(decode_binary(inner))
    else:
        size = 1
    if size == 0:
        raise ValidationException(
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            f"cannot contain an empty {'string' if kind == 'S' else 'binary'} value. "
            f"Key: {attr.name}"
        )
    if is_partition and size > MAX_PARTITION_KEY_BYTES:
        raise _key_error(
            "Size of hashkey has exceeded the maximum size limit of "
            f"{MAX_PARTITION_KEY_BYTES} bytes"
        )
    if not is_partition and size > MAX_SORT_KEY_BYTES:
        raise _key_error(
            "Aggregated size of all range keys has exceeded the size limit of "
            f"{MAX_SORT_KEY_BYTES} bytes"
        )


def item_key(schema: TableSchema, item: Item) -> Item:
    """Extract and check the key attributes of a full item (PutItem)."""
    key: Item = {}
    for attr, is_partition in _key_attributes(schema):
        value = item.get(attr.name)
        if value is None:
            raise _key_error(f"Missing the key {attr.name} in the item")
        check_key_value(attr, value, is_partition)
        key[attr.name] = value
    return key


def parse_key(schema: TableSchema, key: Any) -> Item:
    """Validate the Key of GetItem/DeleteItem/UpdateItem: exactly the key attributes."""
    if not isinstance(key, dict):
        raise fields.wrong_type("Key", "a map")
    if len(key) != len(schema.key_names) or any(n not in key for n in schema.key_names):
        raise ValidationException("The provided key element does not match the schema")
    out: Item = {}
    for attr, is_partition in _key_attributes(schema):
        value = validate_value(key[attr.name])
        if attribute_type(value) != attr.type:
            raise ValidationException("The provided key element does not match the schema")
        check_key_value(attr, value, is_partition)
        out[attr.name] = value
    return out


def _key_attributes(schema: TableSchema) -> list[tuple[KeyAttribute, bool]]:
    attrs = [(schema.partition_key, True)]
    if schema.sort_key is not None:
        attrs.append((schema.sort_key, False))
    return attrs
