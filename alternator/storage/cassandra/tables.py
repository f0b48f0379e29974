"""The Cassandra backend's tables: metadata in ``alternator.tables`` and the CQL DDL.

DynamoDB table ``T`` is CQL table ``"alternator_T"."T"`` (Scylla Alternator's layout): its key
attributes are typed columns, every other attribute an entry of the ``":attrs"`` map, and
``":version"`` the item's version. Each secondary index has its entries in a table of the same
keyspace, ``ix_<index id>`` (``derived_table``); the test-only shadow structure uses ``"dx"``,
a name shorter than any DynamoDB table name, so it never meets the base table's.
Where the table was placed is recorded in its schema (``placement``), so every server process
finds it the same way.

Life cycle (docs/storage.md): a name is claimed with an LWT (status CREATING), the keyspace and
tables are created, then the claim becomes ACTIVE. A claim left CREATING by a crashed server is
taken over after :data:`STALE_CLAIM_SECONDS`. A keyspace left behind by a drop that failed is
dropped, or avoided with a name carrying the new table's id, so it never blocks the name.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

from alternator.errors import DynamoDBError, ResourceInUseException, ResourceNotFoundException
from alternator.schema import SHADOW_TAG, IndexSchema, TableSchema, VectorIndexSchema
from alternator.storage.cassandra.session import (
    META_KEYSPACE,
    SCHEMA_CACHE_SECONDS,
    CassandraBase,
    log,
    quote,
    replication_clause,
)
from alternator.storage.codec import cql_names

CQL_TYPES = {"S": "text", "N": "decimal", "B": "blob"}
DERIVED_TABLE = "dx"
# Stream records (docs/streams.md): one partition per shard, written with a TTL.
STREAM_TABLE = "sx"
STALE_CLAIM_SECONDS = 60.0
_MAX_CQL_NAME = 48


def _not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")


def derived_table(space: str) -> str:
    """The CQL table (in the table's keyspace) holding a derived-row space."""
    if space.startswith("index:"):
        return "ix_" + space[len("index:"):]
    if space.startswith("vector:"):
        return "vx_" + space[len("vector:"):]
    return DERIVED_TABLE


# SAI's similarity function for each DistanceFunction (docs/vector-search.md).
SIMILARITY = {"COSINE": "cosine", "EUCLIDEAN": "euclidean", "DOT_PRODUCT": "dot_product"}


def key_column(name: str) -> str:
    """The CQL column of a key attribute: internal columns begin with one ':' and a letter, so
    a key attribute whose name begins with ':' gets one more (':attrs' -> '::attrs')."""
    return quote(":" + name if name.startswith(":") else name)


class CassandraTables(CassandraBase):
    async def _opened(self) -> None:
        await super()._opened()
        await self.run_blocking(
            self._session.execute,
            f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.tables ("
            "table_name text PRIMARY KEY, definition blob, status text)")
        await self.run_blocking(
            self._session.execute,
            f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.leases (name text PRIMARY KEY, "
            "holder uuid)")

    async def _meta_statement(self, name: str) -> object:
        cql = {
            "get": f"SELECT definition, status FROM {META_KEYSPACE}.tables WHERE table_name = ?",
            "list": f"SELECT table_name, status FROM {META_KEYSPACE}.tables",
            "claim": f"INSERT INTO {META_KEYSPACE}.tables (table_name, definition, status) "
                     "VALUES (?, ?, 'CREATING') IF NOT EXISTS",
            "release": f"DELETE FROM {META_KEYSPACE}.tables WHERE table_name = ? "
                       "IF status = 'CREATING' AND definition = ?",
            "activate": f"UPDATE {META_KEYSPACE}.tables SET status = 'ACTIVE', definition = ? "
                        "WHERE table_name = ? IF definition = ?",
            "update": f"UPDATE {META_KEYSPACE}.tables SET definition = ? WHERE table_name = ? "
                      "IF status = 'ACTIVE'",
            "replace": f"UPDATE {META_KEYSPACE}.tables SET definition = ? WHERE table_name = ? "
                       "IF definition = ?",
            "remove": f"DELETE FROM {META_KEYSPACE}.tables WHERE table_name = ? IF EXISTS",
            "claim_lease": f"INSERT INTO {META_KEYSPACE}.leases (name, holder) VALUES (?, ?) "
                           "IF NOT EXISTS USING TTL ?",
            "renew_lease": f"UPDATE {META_KEYSPACE}.leases USING TTL ? SET holder = ? "
                           "WHERE name = ? IF holder = ?",
            "keyspace_tables": "SELECT table_name FROM system_schema.tables "
                               "WHERE keyspace_name = ?",
        }[name]
        statement = await self.prepared("tables." + name, cql)
        if " IF " in cql:
            # Table names and leases are global (docs/cluster.md#replication-and-consistency):
            # their LWTs run Paxos over the replicas of every datacenter, so two servers in
            # different datacenters never both create one table or both hold one lease.
            statement.serial_consistency_level = self._cl.SERIAL
            statement.consistency_level = self._cl.QUORUM
        return statement

    async def create_table(self, schema: TableSchema) -> TableSchema:
        claim = schema.to_json()
        result = await self.execute(await self._meta_statement("claim"), (schema.name, claim))
        if not result.was_applied:
            await self._take_over_stale_claim(schema.name, result)
            result = await self.execute(await self._meta_statement("claim"),
                                        (schema.name, claim))
            if not result.was_applied:
                raise ResourceInUseException(f"Table already exists: {schema.name}")
        try:
            keyspace, table = await self._free_names(schema)
            placement = (keyspace, table, DERIVED_TABLE) if schema.tag(SHADOW_TAG) \
                else (keyspace, table)
            stored = replace(schema, placement=placement)
            await self.run_blocking(self._create_cql_tables, stored)
        except BaseException:
            await self.execute(await self._meta_statement("release"), (schema.name, claim))
            raise
        done = await self.execute(await self._meta_statement("activate"),
                                  (stored.to_json(), schema.name, claim))
        if not done.was_applied:  # our claim was taken over as stale meanwhile
            raise ResourceInUseException(f"Table already exists: {schema.name}")
        self._schemas.invalidate(schema.name)
        return stored

    async def _take_over_stale_claim(self, name: str, result: object) -> None:
        """Remove a claim that a crashed CreateTable left CREATING for too long."""
        rows = getattr(result, "current_rows", None) or []
        if not rows:
            return
        # The failed LWT returns the existing row: (applied, table_name, definition, status).
        row = dict(zip(result.column_names, rows[0], strict=True))  # type: ignore[attr-defined]
        if row.get("status") != "CREATING" or row.get("definition") is None:
            return
        claimed = TableSchema.from_json(row["definition"])
        if time.time() - claimed.created_at < STALE_CLAIM_SECONDS:
            return
        log.warning("taking over table %r, left CREATING since %.0f", name, claimed.created_at)
        await self.execute(await self._meta_statement("release"), (name, row["definition"]))

    async def _free_names(self, schema: TableSchema) -> tuple[str, str]:
        """The keyspace and table for a new table: Scylla's names, unless a keyspace of that
        name is left over (a drop that failed) and cannot be dropped now."""
        keyspace, table = cql_names(schema.name)
        statement = await self._meta_statement("keyspace_tables")
        if not (await self.execute(statement, (keyspace,))).current_rows:
            return keyspace, table
        # Nothing ACTIVE or CREATING but our claim names this keyspace: it is a leftover.
        log.warning("dropping keyspace %s, left over from an earlier table %r", keyspace,
                    schema.name)
        try:
            await self.run_blocking(self._session.execute,
                                    f"DROP KEYSPACE IF EXISTS {quote(keyspace)}")
            return keyspace, table
        except Exception:
            suffix = "_" + schema.table_id.replace("-", "")[:12]
            return keyspace[: _MAX_CQL_NAME - len(suffix)] + suffix, table

    def _create_cql_tables(self, schema: TableSchema) -> None:
        keyspace, table = schema.placement[:2]
        pk = schema.partition_key
        columns = [f"{key_column(pk.name)} {CQL_TYPES[pk.type]}"]
        primary = key_column(pk.name)
        if schema.sort_key is not None:
            sk = schema.sort_key
            columns.append(f"{key_column(sk.name)} {CQL_TYPES[sk.type]}")
            primary = f"({primary}), {key_column(sk.name)}"
        columns += ['":attrs" map<text, blob>', '":version" uuid']
        execute = self._session.execute
        execute(f"CREATE KEYSPACE IF NOT EXISTS {quote(keyspace)} WITH replication = "
                f"{replication_clause(self._config)}")
        execute(f"CREATE TABLE IF NOT EXISTS {quote(keyspace)}.{quote(table)} "
                f"({', '.join(columns)}, PRIMARY KEY ({primary}))")
        if len(schema.placement) > 2:
            execute(f"CREATE TABLE IF NOT EXISTS {quote(keyspace)}.{DERIVED_TABLE} "
                    "(space text, part blob, sort blob, value blob, "
                    "PRIMARY KEY ((space, part), sort))")
        for index in schema.indexes:
            self._create_index_table(schema, index)
        for vector_index in schema.vector_indexes:
            self._create_index_table(schema, vector_index)
        if schema.stream is not None:
            self._create_stream_table(schema)

    def _create_stream_table(self, schema: TableSchema) -> None:
        self._session.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(schema.placement[0])}.{STREAM_TABLE} "
            "(label text, shard int, gen bigint, ts bigint, tie bigint, record blob, "
            "PRIMARY KEY ((label, shard, gen), ts, tie))")

    async def add_stream(self, table: TableSchema) -> None:
        await self.run_blocking(self._create_stream_table, table)

    def _create_index_table(self, schema: TableSchema,
                            index: IndexSchema | VectorIndexSchema) -> None:
        name = f"{quote(schema.placement[0])}.{derived_table(index.space)}"
        if isinstance(index, IndexSchema):
            self._session.execute(f"CREATE TABLE IF NOT EXISTS {name} (part blob, sort blob, "
                                  "value blob, PRIMARY KEY (part, sort))")
            return
        # A vector index (docs/vector-search.md): the vector in Cassandra's vector type, with
        # an SAI index of the distance's similarity function, and each inline filter in an
        # SAI-indexed text column (SAI does not index blobs).
        filters = "".join(f"f{i} text, " for i in range(len(index.filters)))
        self._session.execute(
            f"CREATE TABLE IF NOT EXISTS {name} (part blob, sort blob, value blob, "
            f"vec vector<float, {index.dimensions}>, {filters}PRIMARY KEY (part, sort))")
        self._session.execute(
            f"CREATE CUSTOM INDEX IF NOT EXISTS ON {name} (vec) USING 'StorageAttachedIndex' "
            f"WITH OPTIONS = {{'similarity_function': '{SIMILARITY[index.distance]}'}}")
        for i in range(len(index.filters)):
            self._session.execute(
                f"CREATE CUSTOM INDEX IF NOT EXISTS ON {name} (f{i}) "
                "USING 'StorageAttachedIndex'")

    async def add_index(self, table: TableSchema, index: IndexSchema | VectorIndexSchema) -> None:
        await self.run_blocking(self._create_index_table, table, index)

    async def drop_index(self, table: TableSchema,
                         index: IndexSchema | VectorIndexSchema) -> None:
        """Dropped a little later: a server process still holding the old schema (cached for
        SCHEMA_CACHE_SECONDS) may write one more entry meanwhile, and must not fail doing so."""
        self.background(lambda: self._drop_index_later(table, index))

    async def _drop_index_later(self, table: TableSchema,
                                index: IndexSchema | VectorIndexSchema) -> None:
        await asyncio.sleep(3 * SCHEMA_CACHE_SECONDS)
        try:
            await self.run_blocking(
                self._session.execute,
                f"DROP TABLE IF EXISTS {quote(table.placement[0])}.{derived_table(index.space)}")
        except Exception:  # the keyspace went with its table meanwhile, or the cluster is away
            log.warning("could not drop the entries of index %s of %s", index.name, table.name,
                        exc_info=True)

    async def delete_table(self, name: str) -> TableSchema:
        schema = await self.get_table(name)
        if schema is None:
            raise _not_found(name)
        result = await self.execute(await self._meta_statement("remove"), (name,))
        if not result.was_applied:
            raise _not_found(name)
        self._schemas.invalidate(name)
        self._forget_statements(schema)
        # The table is gone once its metadata is: a drop that fails (a DDL timeout under load,
        # which most often completes anyway) leaves a keyspace no metadata names, which the
        # next CreateTable of the name drops or avoids (_free_names). So it fails no request.
        try:
            await self.run_blocking(self._session.execute,
                                    f"DROP KEYSPACE IF EXISTS {quote(schema.placement[0])}")
        except DynamoDBError:
            log.warning("DeleteTable %s: dropping keyspace %s failed; the next CreateTable of "
                        "the name cleans it up", name, schema.placement[0], exc_info=True)
        return schema

    def _forget_statements(self, schema: TableSchema) -> None:
        """Drop what was prepared for a table (items.py)."""

    async def get_table(self, name: str) -> TableSchema | None:
        return await self._schemas.get(name, lambda: self._load_table(name))

    async def _load_table(self, name: str) -> TableSchema | None:
        rows = (await self.execute(await self._meta_statement("get"), (name,))).current_rows
        if rows and rows[0][1] == "ACTIVE":  # (definition, status)
            return TableSchema.from_json(rows[0][0])
        return None

    async def list_tables(self) -> list[str]:
        statement = await self._meta_statement("list")
        names: list[str] = []
        result = await self.execute(statement)
        while True:
            names += [name for name, status in result.current_rows if status == "ACTIVE"]
            if not result.has_more_pages:
                break
            result = await self.execute(statement, paging_state=result.paging_state)
        return sorted(names)

    async def claim(self, name: str, seconds: float, holder: str | None = None) -> bool:
        """A lease is a row that lives ``seconds`` (a CQL TTL), inserted with an LWT; its
        holder renews it with another LWT, conditional on still holding it."""
        ttl = max(1, int(seconds + 0.999))
        mine = uuid.UUID(holder) if holder is not None else uuid.uuid4()
        result = await self.execute(await self._meta_statement("claim_lease"), (name, mine, ttl))
        if result.was_applied or holder is None:
            return bool(result.was_applied)
        result = await self.execute(await self._meta_statement("renew_lease"),
                                    (ttl, mine, name, mine))
        return bool(result.was_applied)

    async def update_table(self, schema: TableSchema, expected: TableSchema | None = None) -> bool:
        if expected is None:
            result = await self.execute(await self._meta_statement("update"),
                                        (schema.to_json(), schema.name))
        else:
            result = await self.execute(await self._meta_statement("replace"),
                                        (schema.to_json(), schema.name, expected.to_json()))
        self._schemas.invalidate(schema.name)
        if not result.was_applied:
            if expected is not None and await self.get_table(schema.name) is not None:
                return False
            raise _not_found(schema.name)
        return True
