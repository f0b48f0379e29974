"""The embedded backend: one SQLite database file.

All SQLite work runs on one dedicated thread, so the event loop never blocks and every statement
runs in a well-defined order. Conditional writes are single statements guarded by the item's
version, which makes them atomic even when several server processes share the file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson

from alternator.cache import ExpiringCache
from alternator.errors import (
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from alternator.schema import TableSchema
from alternator.storage import (
    Page,
    Role,
    SortCondition,
    SystemRows,
    Version,
    table_resource,
)
from alternator.storage.codec import (
    cql_names,
    encode_sortable,
    partition_token,
    segment_of,
    segment_range,
)
from alternator.values import AttributeValue, Item

T = TypeVar("T")
log = logging.getLogger("alternator")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY,
    schema BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    tid TEXT NOT NULL,
    token INTEGER NOT NULL,
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    version INTEGER NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (tid, token, pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS roles (
    role TEXT PRIMARY KEY,
    salted_hash TEXT,
    can_login INTEGER NOT NULL,
    is_superuser INTEGER NOT NULL,
    member_of TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS role_permissions (
    role TEXT NOT NULL,
    resource TEXT NOT NULL,
    permissions TEXT NOT NULL,
    PRIMARY KEY (role, resource)
);
"""

# A cached schema is trusted this long before it is re-read, so that several server processes
# sharing one database file see each other's DDL.
_SCHEMA_CACHE_SECONDS = 1.0


def _new_version() -> int:
    return random.getrandbits(62) + 1


# PRAGMA synchronous levels offered (--sqlite-synchronous); FULL by default.
_SYNCHRONOUS = ("FULL", "NORMAL", "OFF")

LOCAL_DATACENTER = "datacenter1"
LOCAL_RACK = "rack1"


class SQLiteStorage:
    always_isolated = True

    def __init__(self, path: str, synchronous: str = "full") -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        self._path = path
        self._synchronous = synchronous.upper()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None
        self._schemas: ExpiringCache[str, TableSchema | None] = ExpiringCache(
            _SCHEMA_CACHE_SECONDS)

    # --- lifetime -----------------------------------------------------------------------------

    async def open(self) -> None:
        await self._run(self.connect)

    def connect(self) -> None:
        """Open the database on the calling thread (the `alternator role` commands use this)."""
        # The file holds every role's secret: readable by its owner only (-wal/-shm follow it).
        if self._path != ":memory:" and not self._path.startswith("file:"):
            os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
            if os.stat(self._path).st_mode & 0o077:
                log.warning("%s holds the roles' secrets but others may read it; "
                            "chmod 600 it", self._path)
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a write is on disk before it is acknowledged, even across an OS crash.
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        db.execute("PRAGMA busy_timeout=10000")
        db.executescript(_SCHEMA)
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None, "storage not opened"
        return self._db

    # --- tables -------------------------------------------------------------------------------

    async def create_table(self, schema: TableSchema) -> None:
        await self._run(self._create_table, schema)
        self._schemas.invalidate(schema.name)

    def _create_table(self, schema: TableSchema) -> None:
        try:
            self.db.execute("INSERT INTO tables (name, schema) VALUES (?, ?)",
                            (schema.name, schema.to_json()))
        except sqlite3.IntegrityError:
            raise ResourceInUseException(f"Table already exists: {schema.name}") from None

    async def delete_table(self, name: str) -> TableSchema:
        self._schemas.invalidate(name)
        return await self._run(self._delete_table, name)

    def _delete_table(self, name: str) -> TableSchema:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT schema FROM tables WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ResourceNotFoundException(
                    f"Requested resource not found: Table: {name} not found"
                )
            schema = TableSchema.from_json(row[0])
            db.execute("DELETE FROM tables WHERE name = ?", (name,))
            db.execute("DELETE FROM items WHERE tid = ?", (schema.table_id,))
            # As CQL does when a table is dropped: permissions on it are revoked from everyone,
            # or a later table of the same name would inherit them (tests/test_auth.py).
            db.execute("DELETE FROM role_permissions WHERE resource = ?",
                       (table_resource(*cql_names(name)),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return schema

    async def get_table(self, name: str) -> TableSchema | None:
        return await self._schemas.get(name, lambda: self._run(self._get_table, name))

    def _get_table(self, name: str) -> TableSchema | None:
        row = self.db.execute("SELECT schema FROM tables WHERE name = ?", (name,)).fetchone()
        return None if row is None else TableSchema.from_json(row[0])

    async def list_tables(self) -> list[str]:
        return await self._run(self._list_tables)

    def _list_tables(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM tables ORDER BY name")]

    async def update_table(self, schema: TableSchema) -> None:
        self._schemas.invalidate(schema.name)
        await self._run(self._update_table, schema)

    def _update_table(self, schema: TableSchema) -> None:
        cur = self.db.execute("UPDATE tables SET schema = ? WHERE name = ?",
                              (schema.to_json(), schema.name))
        if cur.rowcount == 0:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {schema.name} not found"
            )

    # --- items --------------------------------------------------------------------------------

    @staticmethod
    def _locate(table: TableSchema, key: Item) -> tuple[str, int, bytes, bytes]:
        pk_attr = table.partition_key
        pk = encode_sortable(pk_attr.type, key[pk_attr.name])
        sk = b""
        if table.sort_key is not None:
            sk = encode_sortable(table.sort_key.type, key[table.sort_key.name])
        return table.table_id, partition_token(pk), pk, sk

    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None:
        return (await self._run(self._read, self._locate(table, key)))[0]

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        return await self._run(self._read, self._locate(table, key))

    def _read(self, where: tuple[str, int, bytes, bytes]) -> tuple[Item | None, Version]:
        row = self.db.execute(
            "SELECT item, version FROM items WHERE tid = ? AND token = ? AND pk = ? AND sk = ?",
            where,
        ).fetchone()
        if row is None:
            return None, None
        return orjson.loads(row[0]), str(row[1])

    async def put_item(self, table: TableSchema, item: Item) -> None:
        await self._run(self._put, self._locate(table, item), orjson.dumps(item))

    def _put(self, where: tuple[str, int, bytes, bytes], data: bytes) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO items (tid, token, pk, sk, version, item) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (*where, _new_version(), data),
        )

    async def delete_item(self, table: TableSchema, key: Item) -> None:
        await self._run(self._delete, self._locate(table, key))

    def _delete(self, where: tuple[str, int, bytes, bytes]) -> None:
        self.db.execute(
            "DELETE FROM items WHERE tid = ? AND token = ? AND pk = ? AND sk = ?", where
        )

    async def write_batch(self, table: TableSchema, items: list[Item], keys: list[Item]) -> None:
        puts = [(*self._locate(table, item), _new_version(), orjson.dumps(item)) for item in items]
        deletes = [self._locate(table, key) for key in keys]
        await self._run(self._write_batch, puts, deletes)

    def _write_batch(self, puts: list[tuple[Any, ...]], deletes: list[tuple[Any, ...]]) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO items (tid, token, pk, sk, version, item) "
                           "VALUES (?, ?, ?, ?, ?, ?)", puts)
            db.executemany("DELETE FROM items WHERE tid = ? AND token = ? AND pk = ? AND sk = ?",
                           deletes)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def merge_item(
        self, table: TableSchema, key: Item, set_attributes: Item, remove: tuple[str, ...]
    ) -> None:
        await self._run(self._merge, self._locate(table, key), key, set_attributes, remove)

    def _merge(self, where: tuple[str, int, bytes, bytes], key: Item, set_attributes: Item,
               remove: tuple[str, ...]) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            old, _ = self._read(where)
            item = dict(old if old is not None else key)
            item.update(set_attributes)
            for name in remove:
                item.pop(name, None)
            self._put(where, orjson.dumps(item))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def write_if(
        self, table: TableSchema, key: Item, expected: Version, item: Item | None
    ) -> bool:
        data = None if item is None else orjson.dumps(item)
        return await self._run(self._write_if, self._locate(table, key), expected, data)

    def _write_if(
        self, where: tuple[str, int, bytes, bytes], expected: Version, data: bytes | None
    ) -> bool:
        db = self.db
        match_key = "tid = ? AND token = ? AND pk = ? AND sk = ?"
        if expected is None:
            if data is None:  # deleting an item that must still be absent
                row = db.execute(f"SELECT 1 FROM items WHERE {match_key}", where).fetchone()
                return row is None
            cur = db.execute(
                "INSERT OR IGNORE INTO items (tid, token, pk, sk, version, item) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*where, _new_version(), data),
            )
        elif data is None:
            cur = db.execute(f"DELETE FROM items WHERE {match_key} AND version = ?",
                             (*where, int(expected)))
        else:
            cur = db.execute(
                f"UPDATE items SET item = ?, version = ? WHERE {match_key} AND version = ?",
                (data, _new_version(), *where, int(expected)),
            )
        return cur.rowcount == 1

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
        pk = encode_sortable(table.partition_key.type, partition)
        sql = ["SELECT item FROM items WHERE tid = ? AND token = ? AND pk = ?"]
        args: list[Any] = [table.table_id, partition_token(pk), pk]
        if sort is not None and table.sort_key is not None:
            kind = table.sort_key.type
            bounds = [encode_sortable(kind, v) for v in sort.values]
            if sort.op == "BETWEEN":
                sql.append("AND sk >= ? AND sk <= ?")
                args += bounds
            elif sort.op == "BEGINS_WITH":
                sql.append("AND sk >= ?")
                args.append(bounds[0])
                upper = _prefix_end(bounds[0])
                if upper is not None:
                    sql.append("AND sk < ?")
                    args.append(upper)
            else:
                sql.append(f"AND sk {sort.op} ?")
                args.append(bounds[0])
        if start_key is not None and table.sort_key is not None:
            sql.append("AND sk > ?" if forward else "AND sk < ?")
            args.append(encode_sortable(table.sort_key.type, start_key[table.sort_key.name]))
        elif start_key is not None:
            return Page([], None)  # a hash-only partition holds one item, already returned
        sql.append("ORDER BY sk" + ("" if forward else " DESC") + " LIMIT ?")
        args.append(limit)
        return await self._run(self._page, table, " ".join(sql), args, limit)

    async def scan(
        self,
        table: TableSchema,
        segment: int,
        total_segments: int,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page:
        low, high = segment_range(segment, total_segments)
        sql = ["SELECT item FROM items WHERE tid = ? AND token >= ? AND token < ?"]
        args: list[Any] = [table.table_id, low, high]
        if start_key is not None:
            sql.append("AND (token, pk, sk) > (?, ?, ?)")
            args += self._locate(table, start_key)[1:]
        sql.append("ORDER BY token, pk, sk LIMIT ?")
        args.append(limit)
        return await self._run(self._page, table, " ".join(sql), args, limit)

    def _page(self, table: TableSchema, sql: str, args: list[Any], limit: int) -> Page:
        items = [orjson.loads(r[0]) for r in self.db.execute(sql, args)]
        last = None
        if len(items) == limit and items:
            last = {n: items[-1][n] for n in table.key_names}
        return Page(items, last)

    def segment_of(self, table: TableSchema, key: Item, total_segments: int) -> int:
        return segment_of(self._locate(table, key)[1], total_segments)

    # --- roles and permissions -------------------------------------------------------------------
    # The embedded backend keeps CQL-shaped roles of its own, managed with `alternator role`.

    async def get_role(self, name: str) -> Role | None:
        return await self._run(self._get_role, name)

    def _get_role(self, name: str) -> Role | None:
        row = self.db.execute(
            "SELECT role, salted_hash, can_login, is_superuser, member_of FROM roles "
            "WHERE role = ?", (name,)).fetchone()
        if row is None:
            return None
        return Role(row[0], row[1], bool(row[2]), bool(row[3]), frozenset(orjson.loads(row[4])))

    async def role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        return await self._run(self._role_permissions, name)

    def _role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        rows = self.db.execute(
            "SELECT resource, permissions FROM role_permissions WHERE role = ?", (name,))
        return {resource: frozenset(orjson.loads(perms)) for resource, perms in rows}

    async def grant(self, role: str, permissions: frozenset[str], resource: str) -> None:
        await self._run(self.change_permissions, role, permissions, resource, True)

    def change_permissions(self, role: str, permissions: frozenset[str], resource: str,
                           add: bool) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            current = self._role_permissions(role).get(resource, frozenset())
            updated = current | permissions if add else current - permissions
            if updated:
                db.execute("INSERT OR REPLACE INTO role_permissions VALUES (?, ?, ?)",
                           (role, resource, orjson.dumps(sorted(updated)).decode()))
            else:
                db.execute("DELETE FROM role_permissions WHERE role = ? AND resource = ?",
                           (role, resource))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def put_role(self, role: Role) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO roles VALUES (?, ?, ?, ?, ?)",
            (role.name, role.salted_hash, int(role.can_login), int(role.is_superuser),
             orjson.dumps(sorted(role.member_of)).decode()))

    def drop_role(self, name: str) -> bool:
        cur = self.db.execute("DELETE FROM roles WHERE role = ?", (name,))
        self.db.execute("DELETE FROM role_permissions WHERE role = ?", (name,))
        return cur.rowcount == 1

    def list_roles(self) -> list[Role]:
        names = [r[0] for r in self.db.execute("SELECT role FROM roles ORDER BY role")]
        return [r for r in map(self._get_role, names) if r is not None]

    def table_resource(self, table: TableSchema) -> str:
        return table_resource(*cql_names(table.name))

    # --- system tables ---------------------------------------------------------------------------

    async def read_system_table(
        self, keyspace: str, table: str, where: Item, limit: int, paging_state: bytes | None,
    ) -> SystemRows:
        if (keyspace, table) != ("system", "local"):
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {keyspace}.{table} not found")
        # No file path or versions: any role may read system.local (tests/test_system_tables.py).
        row = {"key": "local", "cluster_name": "alternator (embedded)",
               "data_center": LOCAL_DATACENTER, "rack": LOCAL_RACK}
        rows = [row] if where.get("key", {"S": "local"}) == {"S": "local"} else []
        return SystemRows(rows, None, ("key",))

    async def write_system_table(
        self, keyspace: str, table: str, key: Item, row: Item | None
    ) -> None:
        raise ValidationException("The embedded backend's system tables are read-only")

    # --- cluster ------------------------------------------------------------------------------

    async def local_nodes(self, datacenter: str | None, rack: str | None) -> list[str] | None:
        if datacenter not in (None, LOCAL_DATACENTER) or rack not in (None, LOCAL_RACK):
            return []
        return None


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))
