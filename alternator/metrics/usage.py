"""What one request did, counted as it is done, for the metrics.

Operations, the write path and the storage backends count into the :class:`Usage` of the
request being served, found through a context variable (so that no signature carries it and
tasks a request spawns count into it too); when the request ends, the server turns it into
metrics at once (:mod:`alternator.metrics.registry`). Outside a request (background services)
counts go to a scratch record nobody reads.

Pure: no I/O, no dependency beyond the standard library.
"""

from __future__ import annotations

import contextvars
import time


class TableUsage:
    """One table's share of a request."""

    __slots__ = (
        "batch_items", "filtered_matched", "filtered_read", "item_bytes", "lwt_retries",
        "rcu_half", "reads_before_write", "resource", "returned_items", "returned_records",
        "single_round_trip_writes", "stream_records",
        "wcu_delete", "wcu_index", "wcu_put", "wcu_update", "writes_using_lwt",
    )

    def __init__(self) -> None:
        self.resource = ""  # the table's CQL resource, data/KEYSPACE/TABLE
        self.rcu_half = 0  # read capacity units, counted in halves (exact for eventual reads)
        self.wcu_put = 0.0
        self.wcu_delete = 0.0
        self.wcu_update = 0.0
        self.wcu_index = 0.0
        self.reads_before_write = 0
        self.writes_using_lwt = 0
        self.lwt_retries = 0  # conditional writes that lost a race and were tried again
        self.single_round_trip_writes = 0  # conditional writes made as one LWT, unread
        self.returned_items = 0  # by Query and Scan
        self.returned_records = 0  # by GetRecords
        self.batch_items = 0  # in BatchGetItem / BatchWriteItem
        self.filtered_read = 0  # items a FilterExpression looked at
        self.filtered_matched = 0  # of them, items it kept
        self.item_bytes = 0  # sizes of the items the request read or wrote
        self.stream_records = 0  # stream records its writes made

    def read_units(self, units: float) -> None:
        self.rcu_half += round(units * 2)

    def write_units(self, operation: str, units: float) -> None:
        if operation == "DeleteItem":
            self.wcu_delete += units
        elif operation == "UpdateItem":
            self.wcu_update += units
        else:
            self.wcu_put += units


class Usage:
    """A request's usage, per table (keyed by table name) and of the backend."""

    __slots__ = ("backend_calls", "backend_seconds", "tables")

    def __init__(self) -> None:
        self.tables: dict[str, TableUsage] = {}
        self.backend_calls = 0
        self.backend_seconds = 0.0

    def table(self, name: str) -> TableUsage:
        usage = self.tables.get(name)
        if usage is None:
            usage = self.tables[name] = TableUsage()
        return usage


_CURRENT: contextvars.ContextVar[Usage | None] = contextvars.ContextVar("usage", default=None)
_SCRATCH = Usage()


def begin() -> tuple[Usage, contextvars.Token[Usage | None]]:
    """Start counting a request in the current context; :func:`end` with the token after."""
    usage = Usage()
    return usage, _CURRENT.set(usage)


def end(token: contextvars.Token[Usage | None]) -> None:
    _CURRENT.reset(token)


def current() -> Usage:
    usage = _CURRENT.get()
    if usage is None:
        _SCRATCH.tables.clear()  # nobody reads it: keep it from growing
        return _SCRATCH
    return usage


def of(table: str) -> TableUsage:
    """The current request's usage of ``table``."""
    return current().table(table)


def backend_done(started: float) -> None:
    """Count one call to the backend (a CQL statement, a SQLite transaction) that began at
    ``time.perf_counter()`` = ``started``."""
    usage = _CURRENT.get()
    if usage is not None:
        usage.backend_calls += 1
        usage.backend_seconds += time.perf_counter() - started
