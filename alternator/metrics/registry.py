"""ScyllaDB Alternator's metrics, and this server's own, kept with ``prometheus_client``.

Names, labels and units follow ScyllaDB's ``alternator/stats.cc`` so that dashboards built for
ScyllaDB read them unchanged: ``scylla_alternator_*`` for the whole server and
``scylla_alternator_table_*`` per table (labels ``ks`` and ``cf``), operations by ``op``,
latencies in microseconds. ScyllaDB exposes its counts as counters without the ``_total``
suffix that ``prometheus_client`` adds to every counter; to keep ScyllaDB's exact series names
they are kept here as gauges that only ever go up (``rate()`` and ``increase()`` work on them
as on counters). This server's own metrics are named ``alternator_*`` and follow Prometheus'
conventions (seconds, ``_total``).

Every finished request is recorded once, by :meth:`Metrics.request_done`, from its HTTP outcome
and the :class:`~alternator.metrics.usage.Usage` the operations counted. Under ``--workers N``
the values live in ``prometheus_client``'s shared multi-process files and one scrape sums
every worker's (alternator/metrics/exposition.py); docs/monitoring.md lists every metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram, disable_created_metrics

from alternator.metrics.usage import TableUsage, Usage

disable_created_metrics()  # type: ignore[no-untyped-call]

GLOBAL = "scylla_alternator_"
TABLE = "scylla_alternator_table_"
OWN = "alternator_"

# Microseconds, as ScyllaDB's latency histograms.
LATENCY_BUCKETS_US = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
                      250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000)
SECONDS_BUCKETS = tuple(us / 1e6 for us in LATENCY_BUCKETS_US)
SIZE_KB_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 25, 50, 100)
RETURNED_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000)
# ScyllaDB keeps per-table latency histograms for these operations only.
TABLE_LATENCY_OPERATIONS = frozenset({
    "PutItem", "GetItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "BatchGetItem",
    "GetRecords"})
# Table operations ScyllaDB does not count per table.
NOT_PER_TABLE = frozenset({"CreateTable", "DeleteTable"})
AUTHENTICATION_ERRORS = frozenset({
    "MissingAuthenticationTokenException", "IncompleteSignatureException",
    "InvalidSignatureException", "UnrecognizedClientException"})
AUTHORIZATION_ERRORS = frozenset({"AccessDeniedException"})
CONDITION_FAILED = "ConditionalCheckFailedException"
SHED_ERRORS = frozenset({"ThrottlingException", "RequestLimitExceeded"})
WCU_OPERATIONS = ("PutItem", "DeleteItem", "UpdateItem", "Index")


class _Family:
    """One metric of ScyllaDB's, kept twice: for the whole server and per table."""

    def __init__(self, make: Callable[[str, Sequence[str]], Any], name: str,
                 labels: Sequence[str] = ()) -> None:
        self.all = make(GLOBAL + name, tuple(labels))
        self.table = make(TABLE + name, ("ks", "cf", *labels))


class Metrics:
    """The metrics of one server (one registry; under ``--workers`` backed by shared files)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)

        def counter(help: str) -> Callable[[str, Sequence[str]], Gauge]:
            return lambda name, labels: Gauge(name, help, labels, registry=registry,
                                              multiprocess_mode="sum")

        def histogram(help: str, buckets: Sequence[float]
                      ) -> Callable[[str, Sequence[str]], Histogram]:
            return lambda name, labels: Histogram(name, help, labels, registry=registry,
                                                  buckets=buckets)

        self.operation = _Family(counter("number of operations via Alternator API"),
                                 "operation", ("op",))
        self.op_latency = _Family(
            histogram("Latency histogram of an operation via Alternator API (microseconds)",
                      LATENCY_BUCKETS_US), "op_latency", ("op",))
        self.total = _Family(counter("number of total operations via Alternator API"),
                             "total_operations")
        self.unsupported = counter("number of unsupported operations via Alternator API")(
            GLOBAL + "unsupported_operations", ())
        self.reads_before_write = _Family(
            counter("number of performed read-before-write operations"), "reads_before_write")
        self.write_using_lwt = _Family(counter("number of writes that used LWT"),
                                       "write_using_lwt")
        self.requests_shed = _Family(
            counter("Counts a number of requests shed due to overload."), "requests_shed")
        self.filtered_read = _Family(
            counter("number of rows read during filtering operations"),
            "filtered_rows_read_total")
        self.filtered_matched = _Family(
            counter("number of rows read and matched during filtering operations"),
            "filtered_rows_matched_total")
        self.filtered_dropped = _Family(
            counter("number of rows read and dropped during filtering operations"),
            "filtered_rows_dropped_total")
        self.rcu = _Family(counter("total number of consumed read units"), "rcu_total")
        self.wcu = _Family(counter("total number of consumed write units"), "wcu_total",
                           ("op",))
        self.batch_items = _Family(
            counter("The total number of items processed across all batches"),
            "batch_item_count", ("op",))
        self.batch_histogram = _Family(
            histogram("Histogram of the number of items in a batch request", BATCH_BUCKETS),
            "batch_item_count_histogram", ("op",))
        self.condition_failed = _Family(
            counter("The number of conditional requests whose condition was false "
                    "(ConditionalCheckFailedException)."), "conditional_check_failed")
        self.returned_items = _Family(
            counter("The number of items returned by Query and Scan operations"),
            "returned_items")
        self.returned_histogram = _Family(
            histogram("A histogram of the number of items returned per Query or Scan "
                      "operation", RETURNED_BUCKETS), "returned_items_histogram")
        self.returned_records = _Family(
            counter("The number of stream records returned by GetRecords operations."),
            "returned_records")
        self.operation_size = _Family(
            histogram("Histogram of item sizes involved in a request (KB).", SIZE_KB_BUCKETS),
            "operation_size_kb", ("op",))
        self.user_errors = _Family(
            counter("The number of HTTP 400 client error responses, excluding "
                    "ConditionalCheckFailedException."), "user_errors")
        self.system_errors = _Family(
            counter("The number of HTTP 500 internal server error responses."),
            "system_errors")

        def own(name: str, help: str, labels: Sequence[str] = ()) -> Gauge:
            return counter(help)(OWN + name, labels)

        self.authentication_failures = own(
            "authentication_failures", "requests refused for their signature or credentials")
        self.authorization_failures = own(
            "authorization_failures", "requests refused for lacking a CQL permission")
        self.auth_warnings = own(
            "authorization_warnings",
            "requests --alternator-warn-authorization let through that would be refused",
            ("kind",))
        self.errors = own("errors", "error answers by operation and error code",
                          ("op", "error"))
        self.lwt_retries = own("lwt_retries",
                               "conditional writes retried after losing a race for the item")
        self.backend_calls = own("backend_calls", "calls to the backend, by operation", ("op",))
        self.backend_latency = Histogram(
            OWN + "backend_latency_seconds",
            "time a request spent waiting for the backend, by operation", ("op",),
            registry=registry, buckets=SECONDS_BUCKETS)
        self.cache = own("cache_lookups", "role cache lookups, by result", ("result",))
        self.expiry_scanned = own("expiry_items_scanned",
                                  "items the Time to Live service examined", ("table",))
        self.expiry_deleted = own("expiry_items_deleted",
                                  "expired items the Time to Live service deleted", ("table",))
        self.stream_records = own("stream_records",
                                  "stream records made by the writes of requests")
        self.backfilled = own("index_backfill_items",
                              "items written into new secondary indexes by backfills")
        self._synced: dict[tuple[str, str], float] = {}
        self._ops: dict[str, tuple[Any, Any]] = {}
        self._tables: dict[tuple[str, str], _TableSeries] = {}

    # --- per request -----------------------------------------------------------------------

    def request_done(self, operation: str | None, status: int, error: str | None,
                     seconds: float, usage: Usage) -> None:
        """Record one finished request: ``operation`` None when it named none we serve."""
        micros = seconds * 1e6
        self.total.all.inc()
        if operation is None:
            if error == "UnknownOperationException":
                self.unsupported.inc()
        else:
            series = self._ops.get(operation)
            if series is None:
                series = self._ops[operation] = (self.operation.all.labels(operation),
                                                 self.op_latency.all.labels(operation))
            series[0].inc()
            series[1].observe(micros)
        if error is not None:
            self._error(operation, status, error, usage)
        if usage.backend_calls and operation is not None:
            self.backend_calls.labels(operation).inc(usage.backend_calls)
            self.backend_latency.labels(operation).observe(usage.backend_seconds)
        for name, table in usage.tables.items():
            self._table_done(name, table, operation, micros)

    def _error(self, operation: str | None, status: int, error: str, usage: Usage) -> None:
        self.errors.labels(operation or "", error).inc()
        if error == CONDITION_FAILED:
            self.condition_failed.all.inc()
            for name, table in usage.tables.items():
                self._series(name, table).condition_failed.inc()
            return
        if status >= 500:
            self.system_errors.all.inc()
        elif status >= 400:
            self.user_errors.all.inc()
        if error in AUTHENTICATION_ERRORS:
            self.authentication_failures.inc()
        elif error in AUTHORIZATION_ERRORS:
            self.authorization_failures.inc()
        elif error in SHED_ERRORS:
            self.requests_shed.all.inc()

    def _series(self, name: str, table: TableUsage) -> _TableSeries:
        resource = table.resource or f"data/{name}/{name}"
        key = (resource, name)
        series = self._tables.get(key)
        if series is None:
            keyspace = resource.split("/")[1] if resource.count("/") == 2 else name
            series = self._tables[key] = _TableSeries(self, keyspace, name)
        return series

    def _table_done(self, name: str, table: TableUsage, operation: str | None,
                    micros: float) -> None:
        series = self._series(name, table)
        if operation is not None and operation not in NOT_PER_TABLE:
            series.operation(operation).inc()
            series.total.inc()
            if operation in TABLE_LATENCY_OPERATIONS:
                series.latency(operation).observe(micros)
        for family, value in (
            (self.reads_before_write, table.reads_before_write),
            (self.write_using_lwt, table.writes_using_lwt),
            (self.filtered_read, table.filtered_read),
            (self.filtered_matched, table.filtered_matched),
            (self.filtered_dropped, table.filtered_read - table.filtered_matched),
            (self.returned_records, table.returned_records),
        ):
            if value:
                family.all.inc(value)
                series.child(family).inc(value)
        if table.rcu_half:
            self.rcu.all.inc(table.rcu_half / 2)
            series.child(self.rcu).inc(table.rcu_half / 2)
        for op, units in zip(WCU_OPERATIONS, (table.wcu_put, table.wcu_delete,
                                              table.wcu_update, table.wcu_index), strict=True):
            if units:
                self.wcu.all.labels(op).inc(units)
                series.child(self.wcu, op).inc(units)
        if table.lwt_retries:
            self.lwt_retries.inc(table.lwt_retries)
        if table.stream_records:
            self.stream_records.inc(table.stream_records)
        if operation in ("Query", "Scan"):
            self.returned_items.all.inc(table.returned_items)
            series.child(self.returned_items).inc(table.returned_items)
            self.returned_histogram.all.observe(table.returned_items)
            series.child(self.returned_histogram).observe(table.returned_items)
        if operation in ("BatchGetItem", "BatchWriteItem") and table.batch_items:
            self.batch_items.all.labels(operation).inc(table.batch_items)
            series.child(self.batch_items, operation).inc(table.batch_items)
            self.batch_histogram.all.labels(operation).observe(table.batch_items)
            series.child(self.batch_histogram, operation).observe(table.batch_items)
        if operation is not None and table.item_bytes:
            kb = table.item_bytes / 1024
            self.operation_size.all.labels(operation).observe(kb)
            series.child(self.operation_size, operation).observe(kb)

    # --- from the background services ------------------------------------------------------

    def sync(self, totals: dict[tuple[str, str], float]) -> None:
        """Bring counters the background services keep in plain attributes (TTL expiry,
        backfills, warnings) into the metrics. ``totals`` maps (metric attribute, label value
        or "") to the service's running total; what is new since the last call is added."""
        for key, value in totals.items():
            delta = value - self._synced.get(key, 0.0)
            if delta <= 0:
                continue
            self._synced[key] = value
            metric = getattr(self, key[0])
            (metric.labels(key[1]) if key[1] else metric).inc(delta)


class _TableSeries:
    """One table's labelled children, made once."""

    def __init__(self, metrics: Metrics, keyspace: str, table: str) -> None:
        self._labels = (keyspace, table)
        self._children: dict[tuple[int, str], Any] = {}
        self._operations: dict[str, Any] = {}
        self._latencies: dict[str, Any] = {}
        self._metrics = metrics
        self.total = metrics.total.table.labels(*self._labels)
        self.condition_failed = metrics.condition_failed.table.labels(*self._labels)

    def operation(self, op: str) -> Any:
        child = self._operations.get(op)
        if child is None:
            child = self._operations[op] = self._metrics.operation.table.labels(
                *self._labels, op)
        return child

    def latency(self, op: str) -> Any:
        child = self._latencies.get(op)
        if child is None:
            child = self._latencies[op] = self._metrics.op_latency.table.labels(
                *self._labels, op)
        return child

    def child(self, family: _Family, op: str = "") -> Any:
        key = (id(family), op)
        child = self._children.get(key)
        if child is None:
            labels = (*self._labels, op) if op else self._labels
            child = self._children[key] = family.table.labels(*labels)
        return child
