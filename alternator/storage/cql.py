"""The Cassandra / ScyllaDB backend, through cassandra-driver.

Layout, as Scylla's Alternator has it: DynamoDB table ``T`` is CQL table ``"alternator_T"."T"``;
its key attributes are typed columns named after them, every other attribute is an entry of the
``":attrs"`` map (see codec.py), and ``":version"`` is the per-item version that conditional
writes compare with an LWT ``IF``. Names Cassandra cannot hold (it allows 48 characters of
``[A-Za-z0-9_]`` in keyspace and table names) get a sanitised name plus a hash of the original.

Table metadata lives in ``alternator.tables``, so every server process pointed at the cluster
sees the same tables; a table is visible only once its CQL table exists (status ACTIVE).

Driver calls return futures completed on the driver's I/O thread; :func:`_execute` hands their
results to the event loop with ``call_soon_threadsafe`` and never blocks it. Only the current
page of a result is ever touched.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import decimal
import logging
import random
import threading
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from alternator.cache import ExpiringCache
from alternator.config import CassandraConfig
from alternator.errors import (
    DynamoDBError,
    InternalServerError,
    RequestTimeoutError,
    ResourceInUseException,
    ResourceNotFoundException,
    ServiceUnavailable,
    ValidationException,
)
from alternator.schema import TableSchema
from alternator.storage import Page, Role, SortCondition, SystemRows, Version, table_resource
from alternator.storage.codec import (
    attrs_to_cql,
    cql_names,
    key_to_cql,
    row_to_item,
    segment_of,
    segment_range,
)
from alternator.values import AttributeValue, Item

log = logging.getLogger(__name__)

# cassandra-driver decodes CQL decimals with Decimal.scaleb() on its I/O thread, which rounds to
# that thread's context precision: Python's default of 28 digits would silently cut DynamoDB's
# 38-digit key numbers (test_numbers_are_stored_canonically). Threads created from here on
# start from a context that holds 38 digits.
if decimal.DefaultContext.prec < 38:
    decimal.DefaultContext.prec = 38

META_KEYSPACE = "alternator"
_CQL_TYPES = {"S": "text", "N": "decimal", "B": "blob"}
_SCHEMA_CACHE_SECONDS = 1.0
_MIN_TOKEN = -(1 << 63)
_TOKEN_SPACE = 1 << 64
# An existing row written without a version (e.g. by another Alternator) is matched with
# ``IF ":version" = null``.
_NULL_VERSION = "null"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(slots=True)
class _Statements:
    """The prepared statements of one table, prepared on first use."""

    get: Any = None
    get_versioned: Any = None
    get_serial: Any = None
    put: Any = None
    delete: Any = None
    insert_if_absent: Any = None
    update_if: Any = None
    delete_if: Any = None
    touch: Any = None
    merge_set: Any = None
    merge_remove: Any = None
    by_query: dict[tuple[Any, ...], Any] = field(default_factory=dict)


class CassandraStorage:
    always_isolated = False

    def __init__(self, config: CassandraConfig) -> None:
        self._config = config
        self._cluster: Any = None
        self._session: Any = None
        self._schemas: ExpiringCache[str, TableSchema | None] = ExpiringCache(
            _SCHEMA_CACHE_SECONDS)
        self._statements: dict[str, _Statements] = {}
        self._meta: dict[str, Any] = {}
        self._cl: Any = None
        self._handoff: _Handoff | None = None

    # --- lifetime -----------------------------------------------------------------------------

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._connect)

    def _connect(self) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import (
            DCAwareRoundRobinPolicy,
            ExponentialReconnectionPolicy,
            TokenAwarePolicy,
        )
        from cassandra.query import tuple_factory

        cfg = self._config
        auth = None
        if cfg.username is not None:
            auth = PlainTextAuthProvider(cfg.username, cfg.password or "")
        # Plain tuples: the default named-tuple factory builds a class for every result.
        profile = ExecutionProfile(
            row_factory=tuple_factory,
            load_balancing_policy=TokenAwarePolicy(
                DCAwareRoundRobinPolicy(local_dc=cfg.local_datacenter)
            ),
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=30,
        )
        self._cluster = Cluster(
            list(cfg.contact_points),
            port=cfg.port,
            auth_provider=auth,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            schema_metadata_enabled=False,
            connect_timeout=10,
            # Retry a node that went down every few seconds at most (the driver's default backoff
            # grows to 10 minutes): serving resumes soon after it is back (tests/test_outage.py).
            reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.25, max_delay=2.0),
            # v4 framing: v5 wraps every message in checksummed segments computed in Python.
            protocol_version=4,
        )
        self._session = self._cluster.connect()
        self._cl = ConsistencyLevel
        self._session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {META_KEYSPACE} WITH replication = "
            f"{self._replication()}"
        )
        self._session.execute(
            f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.tables ("
            "table_name text PRIMARY KEY, definition blob, status text)"
        )
        prepare = self._session.prepare
        self._meta = {
            "get": prepare(f"SELECT definition, status FROM {META_KEYSPACE}.tables WHERE table_name = ?"),
            "list": prepare(f"SELECT table_name, status FROM {META_KEYSPACE}.tables"),
            "claim": prepare(
                f"INSERT INTO {META_KEYSPACE}.tables (table_name, definition, status) VALUES (?, ?, "
                "'CREATING') IF NOT EXISTS"
            ),
            "activate": prepare(
                f"UPDATE {META_KEYSPACE}.tables SET status = 'ACTIVE' WHERE table_name = ?"
            ),
            "update": prepare(
                f"UPDATE {META_KEYSPACE}.tables SET definition = ? WHERE table_name = ? "
                "IF status = 'ACTIVE'"
            ),
            "remove": prepare(f"DELETE FROM {META_KEYSPACE}.tables WHERE table_name = ? IF EXISTS"),
            "remove_claim": prepare(f"DELETE FROM {META_KEYSPACE}.tables WHERE table_name = ?"),
        }

    def _replication(self) -> str:
        """NetworkTopologyStrategy with RF = min(3, nodes) in every datacenter, unless configured."""
        per_dc: dict[str, int] = {}
        for host in self._cluster.metadata.all_hosts():
            if host.datacenter:
                per_dc[host.datacenter] = per_dc.get(host.datacenter, 0) + 1
        rf = self._config.replication_factor
        parts = ", ".join(f"'{dc}': {rf or min(3, n)}" for dc, n in sorted(per_dc.items()))
        return "{'class': 'NetworkTopologyStrategy', " + parts + "}"

    async def close(self) -> None:
        if self._cluster is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self._cluster.shutdown)
            self._cluster = None

    # --- execution ----------------------------------------------------------------------------

    async def _execute(self, statement: Any, params: Sequence[Any] | None = None,
                       **kwargs: Any) -> Any:
        """Run a statement without blocking the loop; return the driver's ResultSet."""
        handoff = self._handoff
        if handoff is None or handoff.loop is not asyncio.get_running_loop():
            handoff = self._handoff = _Handoff(asyncio.get_running_loop())
        future: asyncio.Future[Any] = handoff.loop.create_future()
        response = self._session.execute_async(statement, params, **kwargs)
        response.add_callbacks(handoff.completed, handoff.completed,
                               callback_args=(future, response),
                               errback_args=(future, response))
        try:
            return await future
        except DynamoDBError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc

    async def _run_blocking(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, partial(fn, *args))
        except Exception as exc:
            raise _translate(exc) from exc

    # --- tables -------------------------------------------------------------------------------

    async def create_table(self, schema: TableSchema) -> None:
        keyspace, table = cql_names(schema.name)
        schema.settings["cql_keyspace"] = keyspace
        schema.settings["cql_table"] = table
        result = await self._execute(self._meta["claim"], (schema.name, schema.to_json()))
        if not result.was_applied:
            raise ResourceInUseException(f"Table already exists: {schema.name}")
        try:
            await self._run_blocking(self._create_cql_table, schema, keyspace, table)
        except BaseException:
            await self._execute(self._meta["remove_claim"], (schema.name,))
            raise
        await self._execute(self._meta["activate"], (schema.name,))
        self._schemas.invalidate(schema.name)

    def _create_cql_table(self, schema: TableSchema, keyspace: str, table: str) -> None:
        columns = [f"{quote(schema.partition_key.name)} {_CQL_TYPES[schema.partition_key.type]}"]
        primary = quote(schema.partition_key.name)
        if schema.sort_key is not None:
            columns.append(f"{quote(schema.sort_key.name)} {_CQL_TYPES[schema.sort_key.type]}")
            primary = f"({primary}), {quote(schema.sort_key.name)}"
        columns += ['":attrs" map<text, blob>', '":version" uuid']
        self._session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {quote(keyspace)} WITH replication = "
            f"{self._replication()}"
        )
        self._session.execute(
            f"CREATE TABLE {quote(keyspace)}.{quote(table)} ({', '.join(columns)}, "
            f"PRIMARY KEY ({primary}))"
        )

    async def delete_table(self, name: str) -> TableSchema:
        schema = await self.get_table(name)
        if schema is None:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
        result = await self._execute(self._meta["remove"], (name,))
        if not result.was_applied:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
        self._schemas.invalidate(name)
        self._statements.pop(schema.table_id, None)
        keyspace = schema.settings["cql_keyspace"]
        await self._run_blocking(self._session.execute, f"DROP KEYSPACE IF EXISTS {quote(keyspace)}")
        return schema

    async def get_table(self, name: str) -> TableSchema | None:
        return await self._schemas.get(name, lambda: self._load_table(name))

    async def _load_table(self, name: str) -> TableSchema | None:
        rows = (await self._execute(self._meta["get"], (name,))).current_rows
        if rows and rows[0][1] == "ACTIVE":  # (definition, status)
            return TableSchema.from_json(rows[0][0])
        return None

    async def list_tables(self) -> list[str]:
        names: list[str] = []
        result = await self._execute(self._meta["list"])
        while True:
            names += [name for name, status in result.current_rows if status == "ACTIVE"]
            if not result.has_more_pages:
                break
            result = await self._execute(self._meta["list"], paging_state=result.paging_state)
        return sorted(names)

    async def update_table(self, schema: TableSchema) -> None:
        result = await self._execute(self._meta["update"], (schema.to_json(), schema.name))
        if not result.was_applied:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {schema.name} not found"
            )
        self._schemas.invalidate(schema.name)

    # --- statements ---------------------------------------------------------------------------

    async def _prepared(self, table: TableSchema) -> _Statements:
        stmts = self._statements.get(table.table_id)
        if stmts is None:
            stmts = await self._run_blocking(self._prepare_table, table)
            self._statements[table.table_id] = stmts
        return stmts

    def _prepare_table(self, table: TableSchema) -> _Statements:
        name = self._qualified(table)
        where = self._key_where(table)
        cols = self._key_columns(table)
        marks = ", ".join("?" for _ in cols)
        prepare = self._session.prepare
        versioned = prepare(f'SELECT ":attrs", ":version" FROM {name} WHERE {where}')
        versioned.consistency_level = self._cl.LOCAL_QUORUM
        serial = prepare(f'SELECT ":attrs", ":version" FROM {name} WHERE {where}')
        serial.consistency_level = self._cl.LOCAL_SERIAL
        return _Statements(
            get=prepare(f'SELECT ":attrs" FROM {name} WHERE {where}'),
            get_versioned=versioned,
            get_serial=serial,
            put=prepare(
                f'INSERT INTO {name} ({", ".join(cols)}, ":attrs", ":version") '
                f"VALUES ({marks}, ?, ?)"
            ),
            delete=prepare(f"DELETE FROM {name} WHERE {where}"),
            insert_if_absent=prepare(
                f'INSERT INTO {name} ({", ".join(cols)}, ":attrs", ":version") '
                f"VALUES ({marks}, ?, ?) IF NOT EXISTS"
            ),
            update_if=prepare(
                f'UPDATE {name} SET ":attrs" = ?, ":version" = ? WHERE {where} '
                'IF ":version" = ?'
            ),
            delete_if=prepare(f'DELETE FROM {name} WHERE {where} IF ":version" = ?'),
            # An UPDATE alone does not make a row exist; this INSERT (the row marker) does, so
            # that an UpdateItem creates the item even when it only removes attributes.
            touch=prepare(f'INSERT INTO {name} ({", ".join(cols)}, ":version") VALUES ({marks}, ?)'),
            merge_set=prepare(f'UPDATE {name} SET ":attrs" = ":attrs" + ? WHERE {where}'),
            merge_remove=prepare(f'UPDATE {name} SET ":attrs" = ":attrs" - ? WHERE {where}'),
        )

    @staticmethod
    def _qualified(table: TableSchema) -> str:
        return f'{quote(table.settings["cql_keyspace"])}.{quote(table.settings["cql_table"])}'

    @staticmethod
    def _key_columns(table: TableSchema) -> list[str]:
        return [quote(n) for n in table.key_names]

    def _key_where(self, table: TableSchema) -> str:
        return " AND ".join(f"{c} = ?" for c in self._key_columns(table))

    @staticmethod
    def _key_values(table: TableSchema, key: Item) -> list[Any]:
        values = [key_to_cql(table.partition_key, key[table.partition_key.name])]
        if table.sort_key is not None:
            values.append(key_to_cql(table.sort_key, key[table.sort_key.name]))
        return values

    # --- items --------------------------------------------------------------------------------

    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None:
        stmts = await self._prepared(table)
        cl = self._cl.LOCAL_QUORUM if consistent else self._cl.LOCAL_ONE
        bound = stmts.get.bind(self._key_values(table, key))
        bound.consistency_level = cl
        rows = (await self._execute(bound)).current_rows
        if not rows:
            return None
        return _with_attrs(key, table, rows[0][0])

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        stmts = await self._prepared(table)
        statement = stmts.get_serial if serial else stmts.get_versioned
        rows = (await self._execute(statement, self._key_values(table, key))).current_rows
        if not rows:
            return None, None
        attrs, version = rows[0]
        return _with_attrs(key, table, attrs), str(version) if version else _NULL_VERSION

    async def put_item(self, table: TableSchema, item: Item) -> None:
        stmts = await self._prepared(table)
        params = [*self._key_values(table, item), attrs_to_cql(table, item), _new_version()]
        await self._execute(stmts.put, params)

    async def delete_item(self, table: TableSchema, key: Item) -> None:
        stmts = await self._prepared(table)
        await self._execute(stmts.delete, self._key_values(table, key))

    async def write_batch(self, table: TableSchema, items: list[Item], keys: list[Item]) -> None:
        # Each write on its own, concurrently, routed to its partition's replicas: see
        # docs/storage.md for why not a CQL BATCH.
        stmts = await self._prepared(table)
        calls = [self._execute(stmts.put, [*self._key_values(table, item),
                                           attrs_to_cql(table, item), _new_version()])
                 for item in items]
        calls += [self._execute(stmts.delete, self._key_values(table, key)) for key in keys]
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def merge_item(
        self, table: TableSchema, key: Item, set_attributes: Item, remove: tuple[str, ...]
    ) -> None:
        from cassandra.query import BatchStatement, BatchType

        stmts = await self._prepared(table)
        keys = self._key_values(table, key)
        # One partition: the batch is applied atomically and in isolation.
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        batch.add(stmts.touch, [*keys, _new_version()])
        if set_attributes:
            batch.add(stmts.merge_set, [attrs_to_cql(table, set_attributes), *keys])
        if remove:
            batch.add(stmts.merge_remove, [set(remove), *keys])
        await self._execute(batch)

    async def write_if(
        self, table: TableSchema, key: Item, expected: Version, item: Item | None
    ) -> bool:
        stmts = await self._prepared(table)
        keys = self._key_values(table, key)
        expected_uuid = None if expected in (None, _NULL_VERSION) else uuid.UUID(expected)
        if expected is None:
            if item is None:
                rows = (await self._execute(stmts.get_serial, keys)).current_rows
                return not rows
            result = await self._execute(
                stmts.insert_if_absent, [*keys, attrs_to_cql(table, item), _new_version()]
            )
        elif item is None:
            result = await self._execute(stmts.delete_if, [*keys, expected_uuid])
        else:
            result = await self._execute(
                stmts.update_if, [attrs_to_cql(table, item), _new_version(), *keys, expected_uuid]
            )
        return bool(result.was_applied)

    # --- queries ------------------------------------------------------------------------------

    async def query(
        self,
        table: TableSchema,
        partition: AttributeValue,
        sort: SortCondition | None,
        forward: bool,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page:
        pk_value = key_to_cql(table.partition_key, partition)
        if table.sort_key is None:
            if start_key is not None:
                return Page([], None)
            restrictions: list[tuple[str, Any]] = []
        else:
            restrictions = _sort_restrictions(table, sort, start_key, forward)
        shape = ("query", forward, tuple(op for op, _ in restrictions))
        stmts = await self._prepared(table)
        statement = stmts.by_query.get(shape)
        if statement is None:
            where = [f"{quote(table.partition_key.name)} = ?"]
            if table.sort_key is not None:
                ck = quote(table.sort_key.name)
                where += [f"{ck} {op} ?" for op, _ in restrictions]
            order = ""
            if table.sort_key is not None:
                order = f" ORDER BY {quote(table.sort_key.name)} {'ASC' if forward else 'DESC'}"
            statement = await self._run_blocking(
                self._session.prepare,
                f"SELECT {', '.join(self._key_columns(table))}, \":attrs\" FROM "
                f"{self._qualified(table)} WHERE {' AND '.join(where)}{order} LIMIT ?",
            )
            stmts.by_query[shape] = statement
        params = [pk_value, *(v for _, v in restrictions), limit]
        return await self._page(table, statement, params, limit, consistent)

    async def scan(
        self,
        table: TableSchema,
        segment: int,
        total_segments: int,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page:
        low, high = segment_range(segment, total_segments, _TOKEN_SPACE, _MIN_TOKEN)
        items: list[Item] = []
        if start_key is not None:
            # First the rest of the partition the previous page stopped in, then later tokens.
            if table.sort_key is not None:
                rest = await self.query(table, start_key[table.partition_key.name], None, True,
                                        limit, start_key, consistent)
                items = rest.items
                if len(items) == limit:
                    return Page(items, {n: items[-1][n] for n in table.key_names})
            pk = quote(table.partition_key.name)
            statement = await self._scan_statement(table, f"token({pk}) > token(?)")
            params: list[Any] = [key_to_cql(table.partition_key, start_key[table.partition_key.name]),
                                 high - 1, limit - len(items)]
        else:
            statement = await self._scan_statement(table, f"token({quote(table.partition_key.name)}) >= ?")
            params = [low, high - 1, limit]
        page = await self._page(table, statement, params, limit - len(items), consistent)
        items += page.items
        last = {n: items[-1][n] for n in table.key_names} if len(items) == limit and items else None
        return Page(items, last)

    def segment_of(self, table: TableSchema, key: Item, total_segments: int) -> int:
        from cassandra.cqltypes import DecimalType
        from cassandra.murmur3 import murmur3

        value = key_to_cql(table.partition_key, key[table.partition_key.name])
        if isinstance(value, str):
            routing = value.encode()
        elif isinstance(value, Decimal):
            routing = DecimalType.serialize(value, 4)
        else:
            routing = bytes(value)
        return segment_of(murmur3(routing), total_segments, _TOKEN_SPACE, _MIN_TOKEN)

    async def _scan_statement(self, table: TableSchema, lower: str) -> Any:
        stmts = await self._prepared(table)
        shape = ("scan", lower)
        statement = stmts.by_query.get(shape)
        if statement is None:
            pk = quote(table.partition_key.name)
            statement = await self._run_blocking(
                self._session.prepare,
                f"SELECT {', '.join(self._key_columns(table))}, \":attrs\" FROM "
                f"{self._qualified(table)} WHERE {lower} AND token({pk}) <= ? LIMIT ?",
            )
            stmts.by_query[shape] = statement
        return statement

    async def _page(self, table: TableSchema, statement: Any, params: list[Any], limit: int,
                    consistent: bool) -> Page:
        if limit <= 0:
            return Page([], None)
        bound = statement.bind(params)
        bound.consistency_level = self._cl.LOCAL_QUORUM if consistent else self._cl.LOCAL_ONE
        bound.fetch_size = limit
        rows = (await self._execute(bound)).current_rows
        has_sort = table.sort_key is not None
        items = [row_to_item(table, r[0], r[1] if has_sort else None, r[-1]) for r in rows]
        last = {n: items[-1][n] for n in table.key_names} if len(items) == limit and items else None
        return Page(items, last)

    # --- roles and permissions -------------------------------------------------------------------
    # Scylla 6+ keeps roles in system.roles; Cassandra and older Scylla in system_auth.roles.

    async def _auth_statement(self, name: str, columns: str, where: str) -> Any:
        statement = self._meta.get(name)
        if statement is None:
            statement = await self._run_blocking(self._prepare_auth, columns, name, where)
            self._meta[name] = statement
        return statement

    def _prepare_auth(self, columns: str, table: str, where: str) -> Any:
        from cassandra import InvalidRequest

        for keyspace in ("system", "system_auth"):
            try:
                return self._session.prepare(f"SELECT {columns} FROM {keyspace}.{table} {where}")
            except InvalidRequest:
                continue
        raise InternalServerError(f"no {table} table in system or system_auth")

    async def get_role(self, name: str) -> Role | None:
        statement = await self._auth_statement(
            "roles", "role, salted_hash, can_login, is_superuser, member_of", "WHERE role = ?")
        rows = (await self._execute(statement, (name,))).current_rows
        if not rows:
            return None
        role, salted_hash, can_login, is_superuser, member_of = rows[0]
        return Role(role, salted_hash, bool(can_login), bool(is_superuser),
                    frozenset(member_of or ()))

    async def role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        statement = await self._auth_statement(
            "role_permissions", "resource, permissions", "WHERE role = ?")
        rows = (await self._execute(statement, (name,))).current_rows
        return {resource: frozenset(p.upper() for p in (perms or ())) for resource, perms in rows}

    async def grant(self, role: str, permissions: frozenset[str], resource: str) -> None:
        parts = resource.split("/")
        target = "ALL KEYSPACES"
        if len(parts) == 2:
            target = f"KEYSPACE {quote(parts[1])}"
        elif len(parts) == 3:
            target = f"{quote(parts[1])}.{quote(parts[2])}"
        for permission in sorted(permissions):
            await self._run_blocking(self._session.execute,
                                     f"GRANT {permission} ON {target} TO {quote(role)}")

    def table_resource(self, table: TableSchema) -> str:
        return table_resource(table.settings["cql_keyspace"], table.settings["cql_table"])

    # --- system tables ---------------------------------------------------------------------------

    async def read_system_table(
        self, keyspace: str, table: str, where: Item, limit: int, paging_state: bytes | None,
    ) -> SystemRows:
        columns_of = await self._columns_of(keyspace, table)
        types = {name: cql_type for name, _, _, cql_type in columns_of}
        partition_key = tuple(name for _, name in sorted(
            (position, name) for name, kind, position, _ in columns_of if kind == "partition_key"))
        unknown = [c for c in where if c not in partition_key]
        if unknown or (where and len(where) != len(partition_key)):
            raise ValidationException(
                "Query of a system table needs an equality condition on each partition key "
                f"column: {', '.join(partition_key)}"
            )
        shape = ("system", keyspace, table, tuple(where))
        statement = self._meta.get(str(shape))
        if statement is None:
            clause = " AND ".join(f"{quote(c)} = ?" for c in where)
            statement = await self._run_blocking(
                self._session.prepare,
                f"SELECT * FROM {quote(keyspace)}.{quote(table)}"
                + (f" WHERE {clause}" if clause else ""),
            )
            self._meta[str(shape)] = statement
        bound = statement.bind([_to_cql(types[c], v) for c, v in where.items()])
        bound.fetch_size = limit
        bound.consistency_level = self._cl.ONE  # system keyspaces: see write_system_table
        result = await self._execute(bound, paging_state=paging_state)
        columns = result.column_names
        rows = [dict(zip(columns, r, strict=True)) for r in result.current_rows]
        return SystemRows(rows, result.paging_state if result.has_more_pages else None,
                          partition_key)

    async def write_system_table(
        self, keyspace: str, table: str, key: Item, row: Item | None
    ) -> None:
        columns = {name: (kind, cql_type)
                   for name, kind, _, cql_type in await self._columns_of(keyspace, table)}
        primary = [c for c, (kind, _) in columns.items() if kind in ("partition_key", "clustering")]
        given = row if row is not None else key
        unknown = sorted(set(given) - set(columns))
        missing = [c for c in primary if c not in given]
        if unknown or missing or (row is None and set(key) != set(primary)):
            raise ValidationException(
                f"The item does not match the columns of {keyspace}.{table}: primary key "
                f"{', '.join(primary)}" + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        values = {c: _to_cql(columns[c][1], v) for c, v in given.items()}
        target = f"{quote(keyspace)}.{quote(table)}"
        if row is not None:
            names = list(values)
            cql = (f"INSERT INTO {target} ({', '.join(map(quote, names))}) "
                   f"VALUES ({', '.join('?' for _ in names)})")
        else:
            names = primary
            cql = f"DELETE FROM {target} WHERE {' AND '.join(f'{quote(c)} = ?' for c in names)}"
        prepared = await self._run_blocking(self._session.prepare, cql)
        bound = prepared.bind([values[c] for c in names])
        # System keyspaces have their own replication (system_traces: 2, system_distributed:
        # 3), often more than a small cluster's nodes: one replica's acknowledgement suffices.
        bound.consistency_level = self._cl.ONE
        await self._execute(bound)

    async def _columns_of(self, keyspace: str, table: str) -> list[tuple[str, str, int, str]]:
        """(name, kind, position, CQL type) of every column of a table, virtual ones too."""
        statement = self._meta.get("columns")
        if statement is None:
            statement = await self._run_blocking(
                self._session.prepare,
                "SELECT column_name, kind, position, type FROM system_schema.columns "
                "WHERE keyspace_name = ? AND table_name = ?",
            )
            self._meta["columns"] = statement
        rows = (await self._execute(statement, (keyspace, table))).current_rows
        if not rows:
            rows = await self._virtual_columns(keyspace, table)
        if not rows:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {keyspace}.{table} not found")
        return [tuple(r) for r in rows]

    async def _virtual_columns(self, keyspace: str, table: str) -> list[Any]:
        statement = self._meta.get("virtual_columns")
        if statement is None:
            try:
                statement = await self._run_blocking(
                    self._session.prepare,
                    "SELECT column_name, kind, position, type FROM system_virtual_schema.columns "
                    "WHERE keyspace_name = ? AND table_name = ?",
                )
            except DynamoDBError:
                return []  # ScyllaDB has no system_virtual_schema
            self._meta["virtual_columns"] = statement
        return list((await self._execute(statement, (keyspace, table))).current_rows)

    # --- cluster ------------------------------------------------------------------------------

    async def local_nodes(self, datacenter: str | None, rack: str | None) -> list[str] | None:
        metadata = self._cluster.metadata
        if datacenter is None:
            datacenter = self._config.local_datacenter or self._local_datacenter()
        out = []
        for host in metadata.all_hosts():
            if not host.is_up or host.datacenter != datacenter:
                continue
            if rack is not None and host.rack != rack:
                continue
            out.append(str(host.broadcast_rpc_address or host.address))
        return sorted(out)

    def _local_datacenter(self) -> str | None:
        connection = self._cluster.control_connection
        host = self._cluster.metadata.get_host(connection._connection.endpoint) \
            if connection._connection else None
        return host.datacenter if host is not None else None


class _Handoff:
    """Hands finished driver responses to the event loop, waking it once per batch.

    The driver completes responses on its I/O thread; waking the loop for each one (a write to
    its self-pipe every time) was a large share of the CPU under load. Completions queue up
    here, and only the first of a batch schedules the loop to drain them all.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pending: deque[tuple[asyncio.Future[Any], Any]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def completed(self, _result: Any, future: asyncio.Future[Any], response: Any) -> None:
        """Driver I/O thread: a response finished (successfully or not)."""
        with self._lock:
            self._pending.append((future, response))
            if self._scheduled:
                return
            self._scheduled = True
        self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        for future, response in batch:
            if future.done():
                continue
            try:
                future.set_result(response.result())  # already complete: does not block
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)


def _to_cql(cql_type: str, value: AttributeValue) -> Any:
    """An attribute value as the Python value the driver writes to a column of ``cql_type``."""
    cql_type = cql_type.strip()
    if cql_type.startswith("frozen<"):
        cql_type = cql_type[len("frozen<"):-1]
    (kind, inner), = value.items()
    if kind == "NULL":
        return None
    for prefix in ("set<", "list<"):
        if cql_type.startswith(prefix):
            element = cql_type[len(prefix):-1]
            members = inner if kind in ("L",) else [{kind[0]: m} for m in inner]
            converted = [_to_cql(element, m) for m in members]
            return set(converted) if prefix == "set<" else converted
    if cql_type.startswith("map<") and kind == "M":
        key_type, _, value_type = cql_type[len("map<"):-1].partition(",")
        return {_to_cql(key_type, {"S": k}): _to_cql(value_type, v) for k, v in inner.items()}
    try:
        match cql_type:
            case "int" | "bigint" | "smallint" | "tinyint" | "varint" | "counter":
                return int(Decimal(inner))
            case "float" | "double":
                return float(inner)
            case "decimal":
                return Decimal(inner)
            case "boolean":
                return bool(inner) if kind == "BOOL" else inner == "true"
            case "blob":
                return base64.b64decode(inner) if kind == "B" else str(inner).encode()
            case "uuid" | "timeuuid":
                return uuid.UUID(str(inner))
            case "timestamp":
                return datetime.datetime.fromisoformat(str(inner))
            case "date":
                return datetime.date.fromisoformat(str(inner))
    except (ValueError, ArithmeticError):
        raise ValidationException(f"Value {inner!r} does not fit a column of type {cql_type}") \
            from None
    if kind in ("S", "N"):
        return str(inner)  # text, ascii, varchar, inet, time...
    raise ValidationException(f"A {kind} value does not fit a column of type {cql_type}")


def _new_version() -> uuid.UUID:
    """A fresh item version: random, without a system call per write as uuid4() makes."""
    return uuid.UUID(int=random.getrandbits(128))


def _with_attrs(key: Item, table: TableSchema, attrs: dict[str, bytes] | None) -> Item:
    from alternator.storage.codec import decode_value

    item = dict(key)
    if attrs:
        for name, data in attrs.items():
            item[name] = decode_value(data)
    return item


def _sort_restrictions(
    table: TableSchema, sort: SortCondition | None, start_key: Item | None, forward: bool
) -> list[tuple[str, Any]]:
    """CQL restrictions on the clustering column: the sort condition narrowed by a start key."""
    assert table.sort_key is not None
    attr = table.sort_key
    lower: tuple[str, Any] | None = None
    upper: tuple[str, Any] | None = None
    if sort is not None:
        values = [key_to_cql(attr, v) for v in sort.values]
        match sort.op:
            case "=":
                lower, upper = (">=", values[0]), ("<=", values[0])
            case ">" | ">=":
                lower = (sort.op, values[0])
            case "<" | "<=":
                upper = (sort.op, values[0])
            case "BETWEEN":
                lower, upper = (">=", values[0]), ("<=", values[1])
            case "BEGINS_WITH":
                lower = (">=", values[0])
                end = _prefix_end(values[0])
                if end is not None:
                    upper = ("<", end)
    if start_key is not None:
        start = key_to_cql(attr, start_key[attr.name])
        if forward:
            lower = (">", start)
        else:
            upper = ("<", start)
    return [r for r in (lower, upper) if r is not None]


def _prefix_end(prefix: Any) -> Any:
    """The least value above every value that begins with ``prefix`` (str or bytes)."""
    if isinstance(prefix, bytes):
        stripped = prefix.rstrip(b"\xff")
        return stripped[:-1] + bytes((stripped[-1] + 1,)) if stripped else None
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix[:i] + chr(code)
    return None


def _translate(exc: Exception) -> DynamoDBError:
    """Driver failures as DynamoDB errors. A CAS timeout has an unknown outcome: never success."""
    from cassandra import (
        InvalidRequest,
        OperationTimedOut,
        ReadTimeout,
        Unavailable,
        WriteTimeout,
    )
    from cassandra.cluster import NoHostAvailable

    if isinstance(exc, DynamoDBError):
        return exc
    if isinstance(exc, WriteTimeout):
        return RequestTimeoutError(
            "The write timed out in the database; its outcome is unknown (it may or may not "
            "have been applied)"
        )
    if isinstance(exc, ReadTimeout | OperationTimedOut):
        return RequestTimeoutError("The database did not answer in time")
    if isinstance(exc, Unavailable | NoHostAvailable):
        return ServiceUnavailable("The database is unavailable")
    if isinstance(exc, InvalidRequest) and "unconfigured table" in str(exc).lower():
        return ResourceNotFoundException("Requested resource not found")
    log.error("database error: %r", exc)
    return InternalServerError()
