"""SearchVectors through the server (``make bench`` targets ``vector-sqlite`` and
``vector-cassandra``): latency (p50, p99) and recall@10 at ``BENCH_VECTORS`` vectors (100,000
by default) of 768 dimensions, on each backend; docs/vector-search.md records the numbers.

A table with one COSINE vector index (KEYS_ONLY) is loaded with random float32 vectors by
BatchWriteItem from a few threads, as a user's import would; then ``BENCH_VECTOR_SEARCHES``
SearchVectors (TopK 10) are sent one at a time. The first one is reported apart ("cold"): on
the embedded backend it reads the index into memory, as the first search after a write does.
Recall@10 is measured against exact nearest neighbours computed here in double precision.

    BENCH_VECTORS           vectors loaded (default 100000)
    BENCH_VECTOR_DIMS       dimensions (default 768)
    BENCH_VECTOR_SEARCHES   searches measured after the first (default 200)
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from typing import Any

import numpy as np

from bench import loadgen
from bench import workloads as w

TOP_K = 10
LOADERS = 4
BATCH = 25


def settings() -> tuple[int, int, int]:
    env = os.environ.get
    return (int(env("BENCH_VECTORS", "100000")), int(env("BENCH_VECTOR_DIMS", "768")),
            int(env("BENCH_VECTOR_SEARCHES", "200")))


class Retryable(RuntimeError):
    """A 5xx answer, which an SDK would retry."""


class _Client:
    """One keep-alive connection sending signed requests."""

    def __init__(self, url: str, port: int, access_key: str, secret_key: str) -> None:
        self.url, self.keys = url, (access_key, secret_key)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        headers, data = w.sign(self.url, *self.keys, operation, body)
        self.conn.request("POST", "/", body=data, headers=headers)
        response = self.conn.getresponse()
        answer = json.loads(response.read())
        if response.status >= 500:
            raise Retryable(f"{operation}: {response.status} {answer}")
        if response.status != 200:
            raise RuntimeError(f"{operation}: {response.status} {answer}")
        return dict(answer)


def _vector(row: np.ndarray) -> dict[str, Any]:
    return {"L": [{"N": repr(x)} for x in row.tolist()]}


def _load(url: str, port: int, keys: tuple[str, str], table: str, matrix: np.ndarray) -> None:
    failures: list[BaseException] = []

    def loader(part: int) -> None:
        client = _Client(url, port, *keys)
        try:
            for start in range(part * BATCH, len(matrix), LOADERS * BATCH):
                pending: dict[str, Any] = {table: [
                    {"PutRequest": {"Item": {"p": {"S": f"i{i}"}, "v": _vector(matrix[i])}}}
                    for i in range(start, min(len(matrix), start + BATCH))]}
                retries = 0
                while pending:
                    try:
                        pending = client.call("BatchWriteItem", {"RequestItems": pending}).get(
                            "UnprocessedItems") or {}
                    except Retryable:
                        # As an SDK does: a 5xx (a node too busy to answer in time) is retried.
                        retries += 1
                        if retries > 10:
                            raise
                        time.sleep(min(5.0, 0.1 * 2 ** retries))
                        client = _Client(url, port, *keys)
        except BaseException as exc:  # reported by the caller
            failures.append(exc)

    threads = [threading.Thread(target=loader, args=(i,)) for i in range(LOADERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"loading failed: {failures[0]}")


def normalized(matrix: np.ndarray) -> np.ndarray:
    """The rows as unit vectors in double precision, for exact_nearest."""
    m = matrix.astype(np.float64)
    return m / np.linalg.norm(m, axis=1)[:, None]


def exact_nearest(units: np.ndarray, q: np.ndarray, k: int) -> set[int]:
    """The k nearest rows of ``units`` (normalized()) by cosine distance (ties by row number)."""
    v = q.astype(np.float64)
    distance = 1 - (units @ v) / np.linalg.norm(v)
    return {int(i) for i in np.lexsort((np.arange(len(units)), distance))[:k]}


def measure(url: str, port: int, access_key: str, secret_key: str) -> dict[str, Any]:
    size, dims, searches = settings()
    keys = (access_key, secret_key)
    table = f"vectors_{size}_{dims}"
    rng = np.random.default_rng(size)
    matrix = rng.normal(size=(size, dims)).astype(np.float32)
    client = _Client(url, port, *keys)
    client.call("CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
        "VectorIndexes": [{"IndexName": "vectors", "VectorAttribute": {"AttributeName": "v"},
                           "Dimensions": dims, "DistanceFunction": "COSINE",
                           "Projection": {"ProjectionType": "KEYS_ONLY"}}]})
    started = time.monotonic()
    _load(url, port, keys, table, matrix)
    load_s = time.monotonic() - started
    # A new connection: the server closes one left idle through a long load (keep-alive).
    client = _Client(url, port, *keys)
    units = normalized(matrix)
    latencies: list[float] = []
    hits = 0
    for _ in range(searches + 1):
        q = rng.normal(size=dims).astype(np.float32)
        t0 = time.perf_counter()
        answer = client.call("SearchVectors", {
            "TableName": table, "IndexName": "vectors", "TopK": TOP_K,
            "SearchVector": [{"N": repr(x)} for x in q.tolist()]})
        latencies.append(time.perf_counter() - t0)
        found = {int(r["Item"]["p"]["S"][1:]) for r in answer["SearchResults"]}
        hits += len(found & exact_nearest(units, q, TOP_K))
    client.call("DeleteTable", {"TableName": table})
    warm = sorted(latencies[1:])
    return {"vectors": size, "dims": dims, "searches": searches, "load_s": load_s,
            "load_items_per_s": size / load_s, "cold_ms": 1000 * latencies[0],
            "p50_ms": 1000 * loadgen.percentile(warm, 0.50),
            "p99_ms": 1000 * loadgen.percentile(warm, 0.99),
            "recall_at_10": hits / (TOP_K * (searches + 1))}
