"""The same logical operations sent straight to Cassandra with cassandra-driver.

The rows are the ones the server wrote (its CQL layout, docs/storage.md), the statements
prepared, the consistency levels the server's: reads LOCAL_ONE, writes LOCAL_QUORUM, LWT
LOCAL_SERIAL. Each client is a closed loop of ``execute_async`` callbacks on the driver's own
I/O thread, so no asyncio bridge is measured.

``cond_update`` is one LWT, ``UPDATE ... SET ":attrs"['v'] = ? ... IF EXISTS``: the cheapest
CQL for the same logical operation. ``cond_update_rmw`` is what the server does for it today:
a LOCAL_SERIAL read of the row and its version, then ``UPDATE ... IF ":version" = ?``.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import workloads as w
from bench.loadgen import Sample

DIRECT_WORKLOADS = ("get", "put", "cond_update", "cond_update_rmw", "query", "scan", "mix")


@dataclass
class DirectArgs:
    host: str
    port: int
    workload: str
    clients: int
    seed: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _names(table: str) -> str:
    from alternator.storage.codec import cql_names

    keyspace, name = cql_names(table)
    return f"{_q(keyspace)}.{_q(name)}"


Op = Callable[[Callable[[BaseException | None], None]], None]


def _ops(session: Any, workload: str, rng: random.Random) -> list[Op]:
    """Callables that start one logical operation and call ``done(error)`` when it is over."""
    from cassandra import ConsistencyLevel as CL

    from alternator.storage.codec import encode_value

    kv, qt = _names(w.KV), _names(w.QUERY)
    value = {"v": encode_value({"S": w.VALUE})}
    new_value = encode_value({"S": w.NEW_VALUE})

    def prep(cql: str, cl: Any = CL.LOCAL_QUORUM) -> Any:
        statement = session.prepare(cql)
        statement.consistency_level = cl
        return statement

    def single(statement: Any, params: list[Any] | Callable[[], list[Any]]) -> Op:
        def op(done: Callable[[BaseException | None], None]) -> None:
            bound = params() if callable(params) else params
            future = session.execute_async(statement, bound)
            future.add_callbacks(lambda _: done(None), done)
        return op

    if workload == "get":
        get = prep(f'SELECT ":attrs" FROM {kv} WHERE pk = ?', CL.LOCAL_ONE)
        ops = [single(get, [w.key(i)]) for i in range(w.ITEMS)]
    elif workload == "put":
        put = prep(f'INSERT INTO {kv} (pk, ":attrs", ":version") VALUES (?, ?, ?)')
        ops = [single(put, lambda i=i: [w.key(i), value, uuid.uuid4()]) for i in range(w.ITEMS)]
    elif workload == "cond_update":
        lwt = prep(f'UPDATE {kv} SET ":attrs"[\'v\'] = ?, ":version" = ? WHERE pk = ? IF EXISTS')
        lwt.serial_consistency_level = CL.LOCAL_SERIAL
        ops = [single(lwt, lambda i=i: [new_value, uuid.uuid4(), w.key(i)])
               for i in range(w.ITEMS)]
    elif workload == "cond_update_rmw":
        read = prep(f'SELECT ":attrs", ":version" FROM {kv} WHERE pk = ?', CL.LOCAL_SERIAL)
        write = prep(f'UPDATE {kv} SET ":attrs" = ?, ":version" = ? WHERE pk = ? '
                     'IF ":version" = ?')
        write.serial_consistency_level = CL.LOCAL_SERIAL

        def rmw(i: int) -> Op:
            def op(done: Callable[[BaseException | None], None]) -> None:
                def then(rows: Any) -> None:
                    attrs, version = rows[0] if rows else ({}, None)
                    attrs = dict(attrs or {}, v=new_value)
                    future = session.execute_async(write, [attrs, uuid.uuid4(), w.key(i), version])
                    future.add_callbacks(lambda _: done(None), done)
                future = session.execute_async(read, [w.key(i)])
                future.add_callbacks(then, done)
            return op
        ops = [rmw(i) for i in range(w.ITEMS)]
    elif workload == "query":
        query = prep(f'SELECT pk, sk, ":attrs" FROM {qt} WHERE pk = ? LIMIT 1000', CL.LOCAL_ONE)
        ops = [single(query, [w.key(p)]) for p in range(w.PARTITIONS)]
    elif workload == "scan":
        scan = prep(f'SELECT pk, ":attrs" FROM {kv} WHERE token(pk) >= ? AND token(pk) <= ? '
                    'LIMIT ?', CL.LOCAL_ONE)
        ops = [single(scan, [-(1 << 63), (1 << 63) - 1, w.SCAN_LIMIT])]
    elif workload == "mix":
        gets, puts = _ops(session, "get", rng), _ops(session, "put", rng)
        return [op for pair in zip(gets, puts, strict=True) for op in pair]
    else:
        raise ValueError(f"unknown direct workload {workload!r}")
    rng.shuffle(ops)
    return ops


def direct_worker(args: DirectArgs, barrier: Any, warmup: float, seconds: float) -> Sample:
    import logging

    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

    logging.getLogger("cassandra").setLevel(logging.ERROR)
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()), request_timeout=30)
    cluster = Cluster([args.host], port=args.port, protocol_version=5,
                      auth_provider=PlainTextAuthProvider("cassandra", "cassandra"),
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      schema_metadata_enabled=False, token_metadata_enabled=False)
    try:
        session = cluster.connect()
        rng = random.Random(args.seed)
        ops = _ops(session, args.workload, rng)
        return _drive(ops, args.clients, rng, barrier, warmup, seconds)
    finally:
        cluster.shutdown()


def _drive(ops: list[Op], clients: int, rng: random.Random, barrier: Any, warmup: float,
           seconds: float) -> Sample:
    sample = Sample()
    lock = threading.Lock()
    finished = threading.Event()
    running = [clients]
    perf = time.perf_counter
    barrier.wait()
    start = perf()
    begin, end = start + warmup, start + warmup + seconds
    n = len(ops)

    def client(first: int) -> None:
        position = [first]

        def issue() -> None:
            t0 = perf()
            if t0 >= end:
                with lock:
                    running[0] -= 1
                    if running[0] == 0:
                        finished.set()
                return
            i = position[0]
            position[0] = i + 1 if i + 1 < n else 0

            def done(error: BaseException | None) -> None:
                t1 = perf()
                if begin <= t1 < end:
                    with lock:
                        if error is None:
                            sample.ops += 1
                            sample.latencies.append(t1 - t0)
                        else:
                            sample.errors += 1
                            sample.error_sample = sample.error_sample or repr(error)[:300]
                issue()

            ops[i](done)
        issue()

    for _ in range(clients):
        client(rng.randrange(n))
    finished.wait(warmup + seconds + 60)
    return sample
