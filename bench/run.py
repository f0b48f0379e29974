"""``make bench``: the server against the direct driver, DynamoDB Local and moto, on this machine.

Targets run one at a time, never side by side (the machine is small and shared by the server,
its storage and the load generator). Environment:

    BENCH_SECONDS       measured seconds per workload (default 8)
    BENCH_WARMUP        seconds discarded before that (default 2)
    BENCH_CONCURRENCY   clients, one request outstanding each (default 64)
    BENCH_WORKERS       server workers of the multi-worker targets (default: the cores)
    BENCH_LOADGEN_PROCS load generator processes (default: the cores)
    BENCH_ONLY          comma-separated globs over TARGET or TARGET:RUN, e.g.
                        "cassandra-*,direct-driver" or "*:get" (default: everything)
    BENCH_PROFILE       1: py-spy samples every single-worker server run (bench-results/)
    BENCH_CASS_PORT     CQL port of the benchmark's own Cassandra node (default 19042),
    BENCH_CASS_STORAGE_PORT  its internode port (17000); its work dir is .cassandra/bench
    BENCH_VECTORS, BENCH_VECTOR_DIMS, BENCH_VECTOR_SEARCHES  the SearchVectors targets'
                        size (bench/vector_search.py)

Results: a table on stdout and bench-results/bench-<time>.json (also bench-results/latest.json).
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import loadgen, peers, report, stream_delay, vector_search
from bench import workloads as w
from bench.direct import DIRECT_WORKLOADS, DirectArgs, direct_worker

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-results"


@dataclass(frozen=True)
class Settings:
    seconds: float
    warmup: float
    concurrency: int
    workers: int
    procs: int
    only: tuple[str, ...]
    profile: bool
    cass_port: int
    cass_storage_port: int

    @classmethod
    def from_env(cls) -> Settings:
        cores = os.cpu_count() or 1
        env = os.environ.get
        return cls(
            seconds=float(env("BENCH_SECONDS", "8")),
            warmup=float(env("BENCH_WARMUP", "2")),
            concurrency=int(env("BENCH_CONCURRENCY", "64")),
            workers=int(env("BENCH_WORKERS", str(cores))),
            procs=int(env("BENCH_LOADGEN_PROCS", str(cores))),
            only=tuple(p.strip() for p in env("BENCH_ONLY", "").split(",") if p.strip()),
            profile=env("BENCH_PROFILE", "") in ("1", "true", "yes"),
            cass_port=int(env("BENCH_CASS_PORT", "19042")),
            cass_storage_port=int(env("BENCH_CASS_STORAGE_PORT", "17000")),
        )


@dataclass(frozen=True)
class Run:
    """One measurement: ``label`` names it in the results (``get``, ``get@c1``, ...)."""

    label: str
    workload: str
    table: str = w.KV
    concurrency: int | None = None  # None: the configured one


@dataclass
class Endpoint:
    port: int
    access_key: str
    secret_key: str
    server_pid: int | None = None  # a single-worker server process py-spy may sample

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Target:
    name: str
    about: str
    runs: list[Run]
    group: str  # "trivial", "cassandra", "sqlite", "peer"
    start: Callable[[Bench], Endpoint | None]  # None: the direct driver, no HTTP endpoint
    setup_isolation: bool = False
    selected: list[Run] = field(default_factory=list)


def standard_runs() -> list[Run]:
    return [Run(x, x) for x in w.WORKLOADS]


def server_runs() -> list[Run]:
    """The standard runs plus PutItem on the table with two GSIs and on the table with a
    stream, and the stream's delay (the server's targets)."""
    return [*standard_runs(), Run(w.GSI_PUT_RUN, "put_gsi", w.GSI),
            Run(w.STREAM_PUT_RUN, "put_stream", w.STREAM),
            Run("txn2", "txn2"), Run("txn10", "txn10"),
            Run("stream_delay", "stream_delay", w.STREAM, concurrency=1)]


class Bench:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.logdir = OUT / f"logs-{self.stamp}"
        self.tmp = Path(tempfile.mkdtemp(prefix="alternator-bench-"))
        self.results: list[dict[str, Any]] = []
        self.children: list[peers.Child] = []
        self.cassandra: peers.CassandraNode | None = None
        self.cassandra_loaded = False
        self.profiles: list[Path] = []

    # --- the plan --------------------------------------------------------------------------

    def plan(self) -> list[Target]:
        n = self.s.workers
        isolation = [Run(f"cond_update@{policy}", "cond_update", table)
                     for policy, table in w.ISOLATION_TABLES.items()]
        latency = [Run("get@c1", "get", concurrency=1), Run("put@c1", "put", concurrency=1)]
        size, dims, _ = vector_search.settings()
        vector_run = Run(f"search_vectors@{size}x{dims}", "vector_search", concurrency=1)
        targets = [
            Target("loadgen-ceiling", "the load generator against a raw uvloop endpoint",
                   [Run("trivial", "get")], "trivial", lambda b: b.start_trivial("raw", n)),
            Target(f"aiohttp-trivial-w{n}", f"an aiohttp handler returning {{}}, {n} workers",
                   [Run("trivial", "get")], "trivial", lambda b: b.start_trivial("aiohttp", n)),
            Target("cassandra-w1", "the server on Cassandra, 1 worker",
                   [*server_runs(), *latency, *isolation], "cassandra",
                   lambda b: b.start_alternator_cassandra(1), setup_isolation=True),
            Target(f"cassandra-w{n}", f"the server on Cassandra, {n} workers",
                   server_runs(), "cassandra", lambda b: b.start_alternator_cassandra(n)),
            Target("direct-driver", "cassandra-driver straight to the same Cassandra",
                   [*(Run(x, x) for x in DIRECT_WORKLOADS), *latency], "cassandra",
                   lambda b: None),
            Target(f"sqlite-w{n}", f"the server on the embedded backend, {n} workers",
                   server_runs(), "sqlite", lambda b: b.start_alternator_sqlite(n, True)),
            Target("sqlite-w1-auth", "embedded backend, 1 worker, signatures checked",
                   [Run("get", "get")], "sqlite", lambda b: b.start_alternator_sqlite(1, True)),
            Target("sqlite-w1-noauth", "embedded backend, 1 worker, "
                   "--alternator-enforce-authorization false",
                   [Run("get", "get")], "sqlite", lambda b: b.start_alternator_sqlite(1, False)),
            Target("sqlite-w1-sync-full", "embedded backend, 1 worker, PutItem with "
                   "--sqlite-synchronous full (the default: durable acknowledgements)",
                   [Run("put", "put")], "sqlite",
                   lambda b: b.start_alternator_sqlite(1, True, "full")),
            Target("sqlite-w1-sync-normal", "embedded backend, 1 worker, PutItem with "
                   "--sqlite-synchronous normal",
                   [Run("put", "put")], "sqlite",
                   lambda b: b.start_alternator_sqlite(1, True, "normal")),
            Target("vector-sqlite", f"SearchVectors on the embedded backend, {n} workers",
                   [vector_run], "sqlite", lambda b: b.start_alternator_sqlite(n, True)),
            Target("vector-cassandra", f"SearchVectors on Cassandra (SAI ANN), {n} workers",
                   [vector_run], "cassandra", lambda b: b.start_alternator_cassandra(n)),
            Target("dynamodb-local", "DynamoDB Local 3.x (-inMemory -sharedDb), JDK 17",
                   standard_runs(), "peer", lambda b: b.start_dynamodb_local()),
            Target("moto", "moto_server", standard_runs(), "peer", lambda b: b.start_moto()),
        ]
        for target in targets:
            target.selected = [r for r in target.runs if self.wanted(target.name, r.label)]
        return [t for t in targets if t.selected]

    def wanted(self, target: str, label: str) -> bool:
        if not self.s.only:
            return True
        return any(fnmatch.fnmatchcase(target, p) or fnmatch.fnmatchcase(f"{target}:{label}", p)
                   for p in self.s.only)

    # --- starting things ---------------------------------------------------------------------

    def spawned(self, child: peers.Child) -> peers.Child:
        self.children.append(child)
        return child

    def start_trivial(self, kind: str, workers: int) -> Endpoint:
        port = peers.free_port()
        self.spawned(peers.trivial(self.logdir, kind, port, workers))
        return Endpoint(port, "bench", "bench")

    def ensure_cassandra(self) -> peers.CassandraNode:
        if self.cassandra is None:
            print("bench: starting the benchmark's Cassandra node "
                  f"(CQL port {self.s.cass_port}) ...", flush=True)
            self.cassandra = peers.CassandraNode(self.s.cass_port, self.s.cass_storage_port,
                                                 ROOT / ".cassandra" / "bench")
            self.cassandra.start()
        return self.cassandra

    def start_alternator_cassandra(self, workers: int) -> Endpoint:
        node = self.ensure_cassandra()
        port = peers.free_port()
        child = self.spawned(peers.alternator(
            self.logdir, f"alternator-cassandra-w{workers}", port, workers, "cassandra",
            ["--cassandra-port", str(node.port), "--cassandra-username", "cassandra",
             "--cassandra-password", "cassandra", "--cassandra-replication", "1",
             "--alternator-write-isolation", "only_rmw_uses_lwt"]))
        return Endpoint(port, "cassandra", node.secret(), child.pid if workers == 1 else None)

    def start_alternator_sqlite(self, workers: int, auth: bool,
                                synchronous: str = "full") -> Endpoint:
        db = self.tmp / f"sqlite-w{workers}-{'auth' if auth else 'noauth'}-{synchronous}.db"
        secret = peers.sqlite_role(db)
        port = peers.free_port()
        child = self.spawned(peers.alternator(
            self.logdir, f"alternator-sqlite-w{workers}", port, workers, "sqlite",
            ["--sqlite-path", str(db), "--alternator-enforce-authorization",
             "true" if auth else "false", "--sqlite-synchronous", synchronous]))
        return Endpoint(port, "bench", secret, child.pid if workers == 1 else None)

    def start_dynamodb_local(self) -> Endpoint:
        port = peers.free_port()
        self.spawned(peers.dynamodb_local(self.logdir, port))
        return Endpoint(port, "bench", "bench")  # its access key must be alphanumeric

    def start_moto(self) -> Endpoint:
        port = peers.free_port()
        self.spawned(peers.moto(self.logdir, port))
        return Endpoint(port, "bench", "bench")

    def stop_children(self) -> None:
        while self.children:
            self.children.pop().stop()

    # --- running --------------------------------------------------------------------------

    def run_all(self) -> None:
        for target in self.plan():
            print(f"\n== {target.name}: {target.about}", flush=True)
            try:
                self.run_target(target)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                print(f"bench: {target.name} failed: {exc}", flush=True)
                for run in target.selected:
                    self.record(target.name, run, None, error=str(exc)[:2000])
            finally:
                self.stop_children()
            if self.cassandra is not None and not any(
                    t.group == "cassandra" for t in self.remaining(target)):
                self.cassandra.stop()
                self.cassandra = None

    def remaining(self, current: Target) -> list[Target]:
        plan = self.plan()
        names = [t.name for t in plan]
        return plan[names.index(current.name) + 1:] if current.name in names else []

    def run_target(self, target: Target) -> None:
        if target.selected[0].workload == "vector_search":
            self.measure_vectors(target, target.selected[0])
            return
        if target.group == "cassandra" and not self.cassandra_loaded:
            self.load_cassandra(target)
        endpoint = target.start(self)
        if endpoint is not None and target.group in ("sqlite", "peer"):
            self.setup_tables(endpoint, isolation=False, indexes=uses_gsi([target]))
        for run in target.selected:
            concurrency = run.concurrency or self.s.concurrency
            label = f"{target.name}:{run.label} (c={concurrency})"
            print(f"   {label} ...", end="", flush=True)
            if run.workload == "stream_delay" and endpoint is not None:
                self.measure_stream_delay(target, run, endpoint)
                continue
            try:
                if endpoint is None:
                    result = self.measure_direct(run, concurrency)
                else:
                    result = self.measure_http(target, run, endpoint, concurrency)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                print(f" failed: {exc}", flush=True)
                self.record(target.name, run, None, error=str(exc)[:2000])
                continue
            print(f" {result.ops_per_s:9.0f} ops/s  p50 {result.p50_ms:7.2f} ms  "
                  f"p99 {result.p99_ms:7.2f} ms"
                  + (f"  ({result.errors} errors: {result.error_sample})" if result.errors
                     else ""), flush=True)
            self.record(target.name, run, result, concurrency=concurrency)
            while self.profiles:
                print(f"   profile: {self.profiles.pop().relative_to(ROOT)}", flush=True)

    def load_cassandra(self, target: Target) -> None:
        """Create and load the tables once per node, through a 1-worker server."""
        self.ensure_cassandra()
        endpoint = self.start_alternator_cassandra(1)
        indexes = uses_gsi([t for t in self.plan() if t.group == "cassandra"])
        try:
            self.setup_tables(endpoint, isolation=True, indexes=indexes)
        finally:
            self.stop_children()
        self.cassandra_loaded = True

    def setup_tables(self, endpoint: Endpoint, isolation: bool, indexes: bool) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        t0 = time.monotonic()
        client = boto3.client("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1",
                              aws_access_key_id=endpoint.access_key,
                              aws_secret_access_key=endpoint.secret_key,
                              config=BotoConfig(retries={"max_attempts": 10, "mode": "standard"},
                                                read_timeout=120))
        existing = set(client.list_tables().get("TableNames", []))
        for request in w.create_table_requests(isolation, indexes):
            if request["TableName"] not in existing:
                client.create_table(**request)
        for request in w.create_table_requests(isolation, indexes):
            deadline = time.monotonic() + 120
            while client.describe_table(TableName=request["TableName"])["Table"][
                    "TableStatus"] != "ACTIVE":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"table {request['TableName']} not ACTIVE")
                time.sleep(0.2)
        batch: dict[str, list[Any]] = {}
        count = 0

        def flush() -> None:
            pending: dict[str, Any] = {t: items for t, items in batch.items() if items}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") \
                    or {}
            batch.clear()

        for table, item in w.preload(isolation, indexes):
            batch.setdefault(table, []).append({"PutRequest": {"Item": item}})
            count += 1
            if count % 25 == 0:
                flush()
        flush()
        print(f"   tables created and {count} items loaded in {time.monotonic() - t0:.1f}s",
              flush=True)

    def measure_http(self, target: Target, run: Run, endpoint: Endpoint,
                     concurrency: int) -> loadgen.Result:
        raw: list[bytes] = []
        for operation, body in w.requests(run.workload, run.table):
            if target.group == "trivial":
                body = {}
            headers, data = w.sign(endpoint.url, endpoint.access_key, endpoint.secret_key,
                                   operation, body)
            raw.append(loadgen.http_request("127.0.0.1", endpoint.port, headers, data))
        _check(endpoint, raw[0])
        args = [loadgen.HttpArgs("127.0.0.1", endpoint.port, clients, raw, seed)
                for seed, clients in enumerate(loadgen.split(concurrency, self.s.procs))]
        profiler = self.start_profiler(target, run, endpoint)
        try:
            return loadgen.run(loadgen.http_worker, args, self.s.warmup, self.s.seconds)
        finally:
            if profiler is not None:
                self.finish_profile(profiler, target, run)

    def measure_direct(self, run: Run, concurrency: int) -> loadgen.Result:
        node = self.ensure_cassandra()
        args = [DirectArgs("127.0.0.1", node.port, run.workload, clients, seed)
                for seed, clients in enumerate(loadgen.split(concurrency, self.s.procs))]
        return loadgen.run(direct_worker, args, self.s.warmup, self.s.seconds)

    def measure_stream_delay(self, target: Target, run: Run, endpoint: Endpoint) -> None:
        try:
            delay = stream_delay.measure(endpoint.url, endpoint.access_key, endpoint.secret_key)
        except Exception as exc:
            print(f" failed: {exc}", flush=True)
            self.record(target.name, run, None, error=str(exc)[:2000])
            return
        print(f" write acknowledged -> record read: p50 {delay['p50_ms']:7.1f} ms  "
              f"p99 {delay['p99_ms']:7.1f} ms  ({delay['samples']} writes)", flush=True)
        self.record(target.name, run, None, concurrency=1)
        self.results[-1].update(delay)

    def measure_vectors(self, target: Target, run: Run) -> None:
        endpoint = target.start(self)
        assert endpoint is not None
        print(f"   {target.name}:{run.label} (loading, then searching one at a time) ...",
              end="", flush=True)
        try:
            found = vector_search.measure(endpoint.url, endpoint.port, endpoint.access_key,
                                          endpoint.secret_key)
        except Exception as exc:
            print(f" failed: {exc}", flush=True)
            self.record(target.name, run, None, error=str(exc)[:2000])
            return
        print(f" loaded in {found['load_s']:.0f}s ({found['load_items_per_s']:.0f} items/s); "
              f"first search {found['cold_ms']:.1f} ms, then p50 {found['p50_ms']:.2f} ms  "
              f"p99 {found['p99_ms']:.2f} ms  recall@10 {found['recall_at_10']:.3f}", flush=True)
        self.record(target.name, run, None, concurrency=1)
        self.results[-1].update(found)

    def record(self, target: str, run: Run, result: loadgen.Result | None,
               concurrency: int | None = None, error: str | None = None) -> None:
        row: dict[str, Any] = {"target": target, "run": run.label, "workload": run.workload,
                               "table": run.table,
                               "concurrency": concurrency or run.concurrency
                               or self.s.concurrency}
        if result is not None:
            row.update(result.as_dict())
        if error is not None:
            row["error"] = error
        self.results.append(row)

    # --- profiling ------------------------------------------------------------------------

    def start_profiler(self, target: Target, run: Run, endpoint: Endpoint) -> peers.Child | None:
        if not self.s.profile or endpoint.server_pid is None:
            return None
        out = OUT / f"profile-{self.stamp}-{target.name}-{run.label}.raw"
        argv = [str(peers.VENV_BIN / "py-spy"), "record", "--pid", str(endpoint.server_pid),
                "--rate", "200", "--format", "raw", "--nonblocking", "--output", str(out),
                "--duration", str(int(self.s.warmup + self.s.seconds))]
        return self.spawned(peers.Child(f"py-spy-{run.label}", argv,
                                        self.logdir / f"py-spy-{target.name}-{run.label}.log"))

    def finish_profile(self, profiler: peers.Child, target: Target, run: Run) -> None:
        try:
            profiler.proc.wait(30)
        except subprocess.TimeoutExpired:
            profiler.stop()
        raw = OUT / f"profile-{self.stamp}-{target.name}-{run.label}.raw"
        if raw.exists():
            summary = report.profile_summary(raw.read_text())
            raw.with_suffix(".txt").write_text(summary)
            self.profiles.append(raw.with_suffix(".txt"))

    # --- finishing ------------------------------------------------------------------------

    def cleanup(self) -> None:
        self.stop_children()
        if self.cassandra is not None:
            self.cassandra.stop()
            self.cassandra = None
        with contextlib.suppress(OSError):
            for f in self.tmp.iterdir():
                f.unlink()
            self.tmp.rmdir()

    def write(self) -> Path:
        OUT.mkdir(exist_ok=True)
        document = {
            "time": self.stamp,
            "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                        "python": sys.version.split()[0]},
            "settings": self.s.__dict__ | {"only": list(self.s.only)},
            "results": self.results,
            "comparisons": report.comparisons(self.results, self.s.workers),
        }
        path = OUT / f"bench-{self.stamp}.json"
        path.write_text(json.dumps(document, indent=2, default=str))
        (OUT / "latest.json").write_text(path.read_text())
        return path


def uses_gsi(targets: list[Target]) -> bool:
    """Whether a selected run of these targets needs the table with two GSIs."""
    return any(r.table in (w.GSI, w.STREAM) for t in targets for r in t.selected)


def _check(endpoint: Endpoint, request: bytes) -> None:
    """Send a workload's first request once: a 4xx/5xx is a setup mistake, not a result."""
    host, _, rest = request.partition(b"\r\n\r\n")
    lines = host.split(b"\r\n")[1:]
    headers = dict(line.decode().split(": ", 1) for line in lines)
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=60)
    try:
        connection.request("POST", "/", body=rest, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:500]!r}")
    finally:
        connection.close()


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so everything started is stopped."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def main() -> int:
    settings = Settings.from_env()
    bench = Bench(settings)
    print(f"bench: {settings.seconds:g}s per run (+{settings.warmup:g}s warm-up), "
          f"concurrency {settings.concurrency}, {settings.procs} load generator processes, "
          f"{settings.workers} server workers", flush=True)
    status = 0
    with _interruptible():
        try:
            bench.run_all()
        except KeyboardInterrupt:
            print("\nbench: interrupted; stopping everything it started", flush=True)
            status = 130
        finally:
            bench.cleanup()
    if bench.results:
        path = bench.write()
        print()
        print(report.table(bench.results))
        print()
        print(report.comparison_text(report.comparisons(bench.results, settings.workers)))
        print(f"\nresults: {path.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
