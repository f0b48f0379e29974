"""Closed-loop load generation in processes of their own.

A run is ``concurrency`` clients, spread over ``processes`` OS processes; each client has one
request outstanding at a time. The HTTP client is a raw asyncio stream over one keep-alive
connection (uvloop when installed) that sends pre-built, pre-signed request bytes, so the
generator spends a few tens of microseconds per request and nothing on signing.

Every process connects first, then all start together (a barrier); requests finished during
the first ``warmup`` seconds are discarded, those finished in the next ``seconds`` counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A worker: (args, barrier, warmup, seconds) -> Sample. Must be picklable (module level).
Worker = Callable[[Any, Any, float, float], "Sample"]


@dataclass
class Sample:
    """What one process measured in the window."""

    ops: int = 0
    errors: int = 0
    latencies: array = field(default_factory=lambda: array("d"))  # seconds, counted ops only
    error_sample: str = ""


@dataclass
class Result:
    ops: int
    errors: int
    seconds: float
    ops_per_s: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    error_sample: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in
                ("ops", "errors", "seconds", "ops_per_s", "p50_ms", "p99_ms", "p999_ms",
                 "error_sample")}


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def merge(samples: list[Sample], seconds: float) -> Result:
    latencies = sorted(x for s in samples for x in s.latencies)
    ops = sum(s.ops for s in samples)
    return Result(
        ops=ops,
        errors=sum(s.errors for s in samples),
        seconds=seconds,
        ops_per_s=ops / seconds,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        p999_ms=percentile(latencies, 0.999) * 1000,
        error_sample=next((s.error_sample for s in samples if s.error_sample), ""),
    )


def split(concurrency: int, processes: int) -> list[int]:
    """Clients per process, e.g. 64 over 3 -> [22, 21, 21]; no process without a client."""
    processes = max(1, min(processes, concurrency))
    base, extra = divmod(concurrency, processes)
    return [base + (i < extra) for i in range(processes)]


def run(worker: Worker, per_process_args: list[Any], warmup: float, seconds: float,
        timeout: float | None = None) -> Result:
    """Run ``worker`` in one spawned process per element of ``per_process_args``."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(per_process_args))
    queue = ctx.Queue()
    procs = [ctx.Process(target=_entry, args=(worker, args, barrier, warmup, seconds, queue),
                         daemon=True) for args in per_process_args]
    for p in procs:
        p.start()
    samples: list[Sample] = []
    deadline = time.monotonic() + (timeout or warmup + seconds + 60)
    try:
        while len(samples) < len(procs):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("load generator processes did not report in time")
            try:
                item = queue.get(timeout=min(remaining, 1.0))
            except Exception:  # queue.Empty
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a load generator process died") from None
                continue
            if isinstance(item, str):
                raise RuntimeError(f"load generator failed: {item}")
            samples.append(item)
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
    return merge(samples, seconds)


def _entry(worker: Worker, args: Any, barrier: Any, warmup: float, seconds: float,
           queue: Any) -> None:
    try:
        queue.put(worker(args, barrier, warmup, seconds))
    except BaseException as exc:
        import traceback

        queue.put(f"{exc!r}\n{traceback.format_exc()}")
        with contextlib.suppress(Exception):
            barrier.abort()


# --- the HTTP client ----------------------------------------------------------------------------

@dataclass
class HttpArgs:
    host: str
    port: int
    clients: int
    requests: list[bytes]  # complete HTTP/1.1 requests, cycled through
    seed: int


def http_worker(args: HttpArgs, barrier: Any, warmup: float, seconds: float) -> Sample:
    try:
        import uvloop  # type: ignore[import-not-found]

        runner: Callable[..., Any] = uvloop.run
    except ImportError:
        runner = asyncio.run
    return runner(_http_main(args, barrier, warmup, seconds))  # type: ignore[no-any-return]


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import socket

        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def _http_main(args: HttpArgs, barrier: Any, warmup: float, seconds: float) -> Sample:
    conns = [await _open(args.host, args.port) for _ in range(args.clients)]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, barrier.wait)
    start = time.perf_counter()
    begin, end = start + warmup, start + warmup + seconds
    sample = Sample()
    rng = random.Random(args.seed)
    tasks = [asyncio.create_task(_client(args, conn, rng.randrange(len(args.requests)), begin,
                                         end, sample)) for conn in conns]
    await asyncio.gather(*tasks)
    return sample


async def _client(args: HttpArgs, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                  first: int, begin: float, end: float, sample: Sample) -> None:
    reader, writer = conn
    requests, n, i = args.requests, len(args.requests), first
    perf = time.perf_counter
    record = sample.latencies.append
    try:
        while True:
            t0 = perf()
            if t0 >= end:
                return
            writer.write(requests[i])
            i = i + 1 if i + 1 < n else 0
            status, body, close = await _read_response(reader)
            t1 = perf()
            if begin <= t1 < end:
                if status == 200:
                    sample.ops += 1
                    record(t1 - t0)
                else:
                    sample.errors += 1
                    if not sample.error_sample:
                        sample.error_sample = f"HTTP {status}: {body[:300]!r}"
            if close:
                writer.close()
                reader, writer = await _open(args.host, args.port)
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    close = head.startswith(b"HTTP/1.0") and b"connection: keep-alive" not in lower
    close = close or b"connection: close" in lower
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = lower.index(b"\r\n", at + 2)
        body = await reader.readexactly(int(lower[at + 17:stop]))
    elif b"transfer-encoding: chunked" in lower:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size + 2))
        body = b"".join(p[:-2] for p in parts)
    else:  # body until EOF
        body = await reader.read()
        close = True
    return status, body, close


def http_request(host: str, port: int, headers: dict[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 POST / as bytes (headers as signed, plus Host and Content-Length)."""
    lines = [b"POST / HTTP/1.1", f"Host: {host}:{port}".encode()]
    for name, value in headers.items():
        if name.lower() not in ("host", "content-length"):
            lines.append(f"{name}: {value}".encode())
    lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
