"""The embedded backend's connection: one SQLite database file, used from one thread.

All SQLite work runs on one dedicated thread, so the event loop never blocks and every statement
runs in a well-defined order. Conditional writes are single statements (or one transaction)
guarded by the item's version, which makes them atomic even when several server processes share
the file. The parts of the backend (tables, items, scans, roles, system tables) are mixins over
this class, each in its own module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from alternator.cache import ExpiringCache
from alternator.metrics import usage
from alternator.schema import TableSchema

T = TypeVar("T")
log = logging.getLogger("alternator")

# PRAGMA synchronous levels offered (--sqlite-synchronous); FULL by default.
SYNCHRONOUS = ("FULL", "NORMAL", "OFF")

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS derived_rows (
    tid TEXT NOT NULL,
    space TEXT NOT NULL,
    token INTEGER NOT NULL,
    part BLOB NOT NULL,
    sort BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (tid, space, token, part, sort)
) WITHOUT ROWID;
-- Held only test rows before indexes existed (derived_rows replaces it).
DROP TABLE IF EXISTS derived;
-- Stream records (docs/streams.md), written in their item's transaction; timestamps come from
-- stream_clock in that transaction, so they increase in commit order.
CREATE TABLE IF NOT EXISTS stream_records (
    tid TEXT NOT NULL,
    label TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    gen INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    tie INTEGER NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (tid, label, bucket, gen, ts, tie)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stream_records_by_time ON stream_records (tid, ts);
CREATE TABLE IF NOT EXISTS stream_clock (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    ts INTEGER NOT NULL
);
INSERT OR IGNORE INTO stream_clock VALUES (0, 0);
CREATE TABLE IF NOT EXISTS memories (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    expires REAL NOT NULL,
    holder TEXT
);
-- The registry of servers (docs/cluster.md), each entry until it expires (Unix seconds).
CREATE TABLE IF NOT EXISTS servers (
    datacenter TEXT NOT NULL,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    https_port INTEGER NOT NULL,
    rack TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (datacenter, address, port, https_port)
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
SCHEMA_CACHE_SECONDS = 1.0


def new_version() -> int:
    return random.getrandbits(62) + 1


class SQLiteBase:
    always_isolated = True
    ordered_stream_commits = True

    def __init__(self, path: str, synchronous: str = "full") -> None:
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        self._path = path
        self._synchronous = synchronous.upper()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None
        self._schemas: ExpiringCache[str, TableSchema | None] = ExpiringCache(
            SCHEMA_CACHE_SECONDS)
        # Counts this connection's commits that changed derived rows: with PRAGMA data_version
        # (other connections' commits) it tells when cached vectors are stale (vectors.py).
        self.derived_generation = 0

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
        db.executescript(SCHEMA)
        # Databases made before leases had holders get the column (NULL: anonymous leases).
        if "holder" not in {row[1] for row in db.execute("PRAGMA table_info(leases)")}:
            with contextlib.suppress(sqlite3.OperationalError):  # another process did it
                db.execute("ALTER TABLE leases ADD COLUMN holder TEXT")
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            usage.backend_done(started)

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None, "storage not opened"
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
