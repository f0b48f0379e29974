"""SearchVectors on the embedded backend: latency and recall of its exact (numpy brute force)
search at 10,000 and 100,000 vectors of 768 dimensions (docs/vector-search.md records the
numbers): the first search (which reads the index from the database, as the first after a
write does), then the median and worst of the following ones, and recall@10.

The vectors are written through the backend's own write path (``Storage.write`` with the
derived rows ``derived.rows_of`` gives them), in large transactions to keep the setup short;
each search is ``Storage.search_vectors`` as SearchVectors calls it, scored exactly as the
operation does. Recall@10 is measured against a float64 brute force computed here.

    python -m bench.vector_search [--sizes 10000,100000] [--dims 768] [--searches 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

import numpy as np

from alternator import similarity
from alternator.derived import change
from alternator.schema import KeyAttribute, TableSchema, VectorIndexSchema
from alternator.storage import ItemWrite
from alternator.storage.sqlite import SQLiteStorage


def _exact(distance: str, q: np.ndarray, matrix: np.ndarray, k: int) -> set[int]:
    s = similarity.scores(distance, q.astype(np.float64), matrix.astype(np.float64))
    return set(similarity.nearest(distance, s, k))


async def measure(size: int, dims: int, searches: int, distance: str) -> dict[str, float]:
    rng = np.random.default_rng(size)
    matrix = rng.normal(size=(size, dims)).astype(np.float32)
    index = VectorIndexSchema("vx", "v", dims, distance, id="bench")
    with tempfile.TemporaryDirectory() as tmp:
        storage = SQLiteStorage(os.path.join(tmp, "bench.db"), "off")
        await storage.open()
        table = await storage.create_table(TableSchema(
            "bench", KeyAttribute("p", "S"), None, (KeyAttribute("p", "S"),), "bench-table",
            time.time(), billing_mode="PAY_PER_REQUEST", vector_indexes=(index,)))
        started = time.perf_counter()
        for start in range(0, size, 2000):
            writes = []
            for i in range(start, min(size, start + 2000)):
                item = {"p": {"S": f"i{i}"},
                        "v": {"L": [{"N": repr(float(x))} for x in matrix[i]]}}
                writes.append(ItemWrite({"p": item["p"]}, item,
                                        derived=change(table, None, item, False)))
            await storage.write(table, writes)
        load = time.perf_counter() - started
        latencies, hits = [], 0
        for _ in range(searches + 1):
            q = rng.normal(size=dims).astype(np.float32)
            t0 = time.perf_counter()
            found = await storage.search_vectors(table, index, None, {}, tuple(q), 10)
            latencies.append(time.perf_counter() - t0)
            got = {int(it.decode().split('"S":"i')[1].split('"')[0]) for it, _ in found}
            hits += len(got & _exact(distance, q, matrix, 10))
        await storage.close()
    # The first search reads the index from the database (as the first after a write does).
    cold, warm = latencies[0], latencies[1:]
    return {"load_s": load, "cold_ms": 1000 * cold, "p50_ms": 1000 * statistics.median(warm),
            "max_ms": 1000 * max(warm), "recall": hits / (10 * (searches + 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dims", type=int, default=768)
    parser.add_argument("--searches", type=int, default=20)
    parser.add_argument("--distance", default="COSINE")
    args = parser.parse_args()
    print(f"{'vectors':>8} {'dims':>5} {'load s':>7} {'cold ms':>8} {'p50 ms':>8} "
          f"{'max ms':>8} {'recall':>6}")
    for size in (int(s) for s in args.sizes.split(",")):
        r = asyncio.run(measure(size, args.dims, args.searches, args.distance))
        print(f"{size:>8} {args.dims:>5} {r['load_s']:>7.1f} {r['cold_ms']:>8.1f} "
              f"{r['p50_ms']:>8.1f} {r['max_ms']:>8.1f} {r['recall']:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
