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

from bisect import bisect_left
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
        self.single_round_trip_writes = own(
            "single_round_trip_writes",
            "conditional writes made in one round trip, without reading the item first")
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
        self._tally = _Tally()
        # (table, its resource, operation) -> the table's labels, and with the operation's
        self._labels: dict[tuple[str, str, str | None], tuple[tuple[str, str],
                                                               tuple[str, ...]]] = {}

    # --- per request -----------------------------------------------------------------------

    def request_done(self, operation: str | None, status: int, error: str | None,
                     seconds: float, usage: Usage) -> None:
        """Record one finished request: ``operation`` None when it named none we serve.

        Counted in plain Python here (a few microseconds); :meth:`flush` hands the counts to
        prometheus_client, at each scrape or every second under --workers."""
        add, observe = self._tally.add, self._tally.observe
        micros = seconds * 1e6
        add(self.total.all, ())
        if operation is None:
            if error == "UnknownOperationException":
                add(self.unsupported, ())
        else:
            labels = (operation,)
            add(self.operation.all, labels)
            observe(self.op_latency.all, labels, micros)
            if usage.backend_calls:
                add(self.backend_calls, labels, usage.backend_calls)
                observe(self.backend_latency, labels, usage.backend_seconds)
        if error is not None:
            self._error(operation, status, error, usage)
        for name, table in usage.tables.items():
            self._table_done(name, table, operation, micros)

    def _error(self, operation: str | None, status: int, error: str, usage: Usage) -> None:
        add = self._tally.add
        add(self.errors, (operation or "", error))
        if error == CONDITION_FAILED:
            add(self.condition_failed.all, ())
            for name, table in usage.tables.items():
                add(self.condition_failed.table, self._table_labels(name, table, None)[0])
            return
        if status >= 500:
            add(self.system_errors.all, ())
        elif status >= 400:
            add(self.user_errors.all, ())
        if error in AUTHENTICATION_ERRORS:
            add(self.authentication_failures, ())
        elif error in AUTHORIZATION_ERRORS:
            add(self.authorization_failures, ())
        elif error in SHED_ERRORS:
            add(self.requests_shed.all, ())

    def _table_labels(self, name: str, table: TableUsage,
                      operation: str | None) -> tuple[tuple[str, str], tuple[str, ...]]:
        """The table's labels, and with the operation's: made once per table and operation."""
        key = (name, table.resource, operation)
        found = self._labels.get(key)
        if found is None:
            parts = table.resource.split("/")
            labels = (parts[1] if len(parts) == 3 else name, name)
            found = self._labels[key] = (labels, (*labels, operation or ""))
        return found

    def _table_done(self, name: str, table: TableUsage, operation: str | None,
                    micros: float) -> None:
        add, observe = self._tally.add, self._tally.observe
        labels, op_labels = self._table_labels(name, table, operation)
        if operation is not None and operation not in NOT_PER_TABLE:
            add(self.operation.table, op_labels)
            add(self.total.table, labels)
            if operation in TABLE_LATENCY_OPERATIONS:
                observe(self.op_latency.table, op_labels, micros)
        if table.reads_before_write:
            self._both(self.reads_before_write, labels, table.reads_before_write)
        if table.writes_using_lwt:
            self._both(self.write_using_lwt, labels, table.writes_using_lwt)
        if table.filtered_read:
            self._both(self.filtered_read, labels, table.filtered_read)
            self._both(self.filtered_matched, labels, table.filtered_matched)
            self._both(self.filtered_dropped, labels,
                       table.filtered_read - table.filtered_matched)
        if table.returned_records:
            self._both(self.returned_records, labels, table.returned_records)
        if table.rcu_half:
            self._both(self.rcu, labels, table.rcu_half / 2)
        if table.wcu_put:
            self._both(self.wcu, labels, table.wcu_put, "PutItem")
        if table.wcu_update:
            self._both(self.wcu, labels, table.wcu_update, "UpdateItem")
        if table.wcu_delete:
            self._both(self.wcu, labels, table.wcu_delete, "DeleteItem")
        if table.wcu_index:
            self._both(self.wcu, labels, table.wcu_index, "Index")
        if table.lwt_retries:
            add(self.lwt_retries, (), table.lwt_retries)
        if table.single_round_trip_writes:
            add(self.single_round_trip_writes, (), table.single_round_trip_writes)
        if table.stream_records:
            add(self.stream_records, (), table.stream_records)
        if operation is None:
            return
        if operation in ("Query", "Scan"):
            self._both(self.returned_items, labels, table.returned_items)
            observe(self.returned_histogram.all, (), table.returned_items)
            observe(self.returned_histogram.table, labels, table.returned_items)
        elif operation in ("BatchGetItem", "BatchWriteItem") and table.batch_items:
            self._both(self.batch_items, labels, table.batch_items, operation)
            observe(self.batch_histogram.all, (operation,), table.batch_items)
            observe(self.batch_histogram.table, op_labels, table.batch_items)
        if table.item_bytes:
            kb = table.item_bytes / 1024
            observe(self.operation_size.all, (operation,), kb)
            observe(self.operation_size.table, op_labels, kb)

    def _both(self, family: _Family, labels: tuple[str, str], value: float,
              op: str | None = None) -> None:
        """Count ``value`` for the whole server and for the table."""
        if op is None:
            self._tally.add(family.all, (), value)
            self._tally.add(family.table, labels, value)
        else:
            self._tally.add(family.all, (op,), value)
            self._tally.add(family.table, (*labels, op), value)

    def flush(self) -> None:
        """Hand the counts tallied since the last flush to prometheus_client."""
        self._tally.flush()

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


class _Tally:
    """Counts and observations not yet handed to prometheus_client, keyed by (metric, label
    values), and the labelled children they go to (made once).

    A histogram's observations are kept as its buckets' counts and their sum, and handed over
    by incrementing the child's bucket and sum values, which is what its ``observe`` does one
    observation at a time (tests/unit/test_metrics_tally.py holds the two to the same
    exposition)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[Any, tuple[str, ...]], float] = {}
        self._observed: dict[tuple[Any, tuple[str, ...]], list[float]] = {}
        self._bounds: dict[Any, list[float]] = {}
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def add(self, metric: Any, labels: tuple[str, ...], value: float = 1) -> None:
        key = (metric, labels)
        counts = self._counts
        counts[key] = counts.get(key, 0) + value

    def observe(self, metric: Any, labels: tuple[str, ...], value: float) -> None:
        key = (metric, labels)
        pending = self._observed.get(key)
        if pending is None:
            bounds = self._bounds.get(metric)
            if bounds is None:
                bounds = self._bounds[metric] = [float(b) for b in metric._upper_bounds]
            pending = self._observed[key] = [0.0] * (len(bounds) + 1)
        else:
            bounds = self._bounds[metric]
        pending[bisect_left(bounds, value)] += 1  # the first bucket whose bound >= value
        pending[-1] += value

    def _child(self, key: tuple[Any, tuple[str, ...]]) -> Any:
        child = self._children.get(key)
        if child is None:
            metric, labels = key
            child = self._children[key] = metric.labels(*labels) if labels else metric
        return child

    def flush(self) -> None:
        counts, self._counts = self._counts, {}
        for key, value in counts.items():
            self._child(key).inc(value)
        observed, self._observed = self._observed, {}
        for key, pending in observed.items():
            child = self._child(key)
            child._sum.inc(pending[-1])
            for bucket, count in zip(child._buckets, pending, strict=False):
                if count:
                    bucket.inc(count)
