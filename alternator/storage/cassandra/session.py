"""The Cassandra / ScyllaDB backend's connection: the driver session and the hand-off of its
results to the event loop.

Driver calls return futures completed on the driver's I/O thread; :meth:`CassandraBase.execute`
hands their results to the event loop (one wake-up per batch of responses, see
:class:`Handoff`) and never blocks it. Only the current page of a result is ever touched. The
parts of the backend (tables, items, scans, roles, system tables, intents) are mixins over
:class:`CassandraBase`, each in its own module.
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from alternator.cache import ExpiringCache
from alternator.config import CassandraConfig, StreamsConfig
from alternator.errors import (
    DynamoDBError,
    InternalServerError,
    RequestTimeoutError,
    ResourceNotFoundException,
    ServiceUnavailable,
)
from alternator.metrics import usage
from alternator.schema import TableSchema
from alternator.storage import DerivedRow
from alternator.values import Item

log = logging.getLogger("alternator.storage.cassandra")

# cassandra-driver decodes CQL decimals with Decimal.scaleb() on its I/O thread, which rounds to
# that thread's context precision: Python's default of 28 digits would silently cut DynamoDB's
# 38-digit key numbers (test_numbers_are_stored_canonically). Threads created from here on
# start from a context that holds 38 digits.
if decimal.DefaultContext.prec < 38:
    decimal.DefaultContext.prec = 38

META_KEYSPACE = "alternator"
SCHEMA_CACHE_SECONDS = 1.0

# What the write path derives from an item's state (alternator/derived.py: rows_of), given to
# the backend so that it can complete an interrupted write's derived rows on its own.
RowsOf = Callable[[TableSchema, Item | None], tuple[DerivedRow, ...]]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def replication_clause(config: CassandraConfig) -> str:
    """NetworkTopologyStrategy with the configured factor per datacenter (docs/configuration.md)."""
    if config.replication_per_datacenter:
        parts = ", ".join(f"'{dc}': {rf}" for dc, rf in config.replication_per_datacenter)
    else:
        parts = f"'replication_factor': {config.replication_factor}"
    return "{'class': 'NetworkTopologyStrategy', " + parts + "}"


class CassandraBase:
    always_isolated = False
    ordered_stream_commits = False

    def __init__(self, config: CassandraConfig, rows_of: RowsOf,
                 streams: StreamsConfig | None = None,
                 transaction_timeout: float = 5.0) -> None:
        self._config = config
        self._streams = streams or StreamsConfig()
        self._transaction_timeout = transaction_timeout
        self._rows_of = rows_of
        self._cluster: Any = None
        self._session: Any = None
        self._cl: Any = None
        self._schemas: ExpiringCache[str, TableSchema | None] = ExpiringCache(
            SCHEMA_CACHE_SECONDS)
        self._meta: dict[str, Any] = {}
        self._handoff: Handoff | None = None
        self._background: list[asyncio.Task[None]] = []

    # --- lifetime -----------------------------------------------------------------------------

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._connect)
        await self._opened()

    async def _opened(self) -> None:
        """After connecting: the mixins' own set-up (prepared statements, background work)."""

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
            # The driver leaves Nagle's algorithm on: a request it writes in more than one
            # send (one of more than a few KB, as an item of hundreds of numbers is) then
            # waits for the node's delayed ACK, about 40 ms.
            sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self._session = self._cluster.connect()
        self._cl = ConsistencyLevel
        self._warn_about_replication()
        self._session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {META_KEYSPACE} WITH replication = "
            f"{replication_clause(cfg)}"
        )

    def _warn_about_replication(self) -> None:
        per_dc: dict[str, int] = {}
        for host in self._cluster.metadata.all_hosts():
            if host.datacenter:
                per_dc[host.datacenter] = per_dc.get(host.datacenter, 0) + 1
        wanted = dict(self._config.replication_per_datacenter) or \
            dict.fromkeys(per_dc, self._config.replication_factor)
        for dc, rf in sorted(wanted.items()):
            nodes = per_dc.get(dc, 0)
            if rf > nodes:
                log.warning(
                    "replication factor %d in datacenter %r, which has %d node(s): quorum "
                    "requests fail until nodes are added or --cassandra-replication is lowered",
                    rf, dc, nodes)

    async def _closing(self) -> None:
        """Before the session closes (background work already stopped): the mixins' own."""

    def background(self, work: Callable[[], Any]) -> None:
        """Run a coroutine function for the storage's lifetime (cancelled by close())."""
        self._background.append(asyncio.get_running_loop().create_task(work()))

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        if self._cluster is not None:
            await self._closing()
            await asyncio.get_running_loop().run_in_executor(None, self._cluster.shutdown)
            self._cluster = None

    # --- execution ----------------------------------------------------------------------------

    async def execute(self, statement: Any, params: Sequence[Any] | None = None,
                      **kwargs: Any) -> Any:
        """Run a statement without blocking the loop; return the driver's ResultSet."""
        handoff = self._handoff
        if handoff is None or handoff.loop is not asyncio.get_running_loop():
            handoff = self._handoff = Handoff(asyncio.get_running_loop())
        future: asyncio.Future[Any] = handoff.loop.create_future()
        response = self._session.execute_async(statement, params, **kwargs)
        response.add_callbacks(handoff.completed, handoff.completed,
                               callback_args=(future, response),
                               errback_args=(future, response))
        started = time.perf_counter()
        try:
            return await future
        except DynamoDBError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        finally:
            usage.backend_done(started)

    async def run_blocking(self, fn: Any, *args: Any) -> Any:
        """A blocking driver call (prepare, DDL) on a thread of the default executor."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, partial(fn, *args))
        except Exception as exc:
            raise translate(exc) from exc

    async def prepare(self, cql: str) -> Any:
        return await self.run_blocking(self._session.prepare, cql)

    async def prepared(self, name: str, cql: str) -> Any:
        """A statement prepared once per process, kept under ``name``."""
        statement = self._meta.get(name)
        if statement is None:
            statement = self._meta[name] = await self.prepare(cql)
        return statement


class Handoff:
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


def translate(exc: Exception) -> DynamoDBError:
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
