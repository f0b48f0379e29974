"""The metrics' tally (alternator/metrics/registry.py): counts and observations handed to
prometheus_client in batches give exactly the exposition that one call per event gives."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from alternator.metrics.registry import Metrics, _Tally
from alternator.metrics.usage import Usage


def _pair() -> tuple[tuple[Gauge, Histogram], tuple[Gauge, Histogram]]:
    made = []
    for _ in range(2):
        registry = CollectorRegistry()
        made.append((Gauge("g", "g", ("op",), registry=registry),
                     Histogram("h", "h", ("op",), registry=registry,
                               buckets=(1, 2.5, 10, 100))))
    return made[0], made[1]


def test_batched_equals_one_by_one() -> None:
    (gauge, histogram), (direct_gauge, direct_histogram) = _pair()
    tally = _Tally()
    rng = random.Random(7)
    # (Values whose sums are exact in binary, so that the order of additions cannot matter.)
    values = [rng.choice([0, 1, 1.0, 2.5, 2.75, 10, 99.5, 100, 100.25, 1e6]) for _ in range(500)]
    for i, value in enumerate(values):
        op = ("GetItem", "PutItem")[i % 2]
        tally.observe(histogram, (op,), value)
        tally.add(gauge, (op,), value)
        direct_histogram.labels(op).observe(value)
        direct_gauge.labels(op).inc(value)
        if i % 97 == 0:
            tally.flush()
    tally.flush()
    batched = _exposition(gauge, histogram)
    direct = _exposition(direct_gauge, direct_histogram)
    assert batched == direct
    assert "h_count{op=\"GetItem\"} 250.0" in batched


def _exposition(gauge: Gauge, histogram: Histogram) -> str:
    registry = CollectorRegistry()
    registry.register(gauge)
    registry.register(histogram)
    return generate_latest(registry).decode()


def test_request_done_reaches_the_registry_on_flush() -> None:
    metrics = Metrics()
    usage = Usage()
    table = usage.table("t")
    table.resource = "data/alternator_t/t"
    table.read_units(0.5)
    metrics.request_done("GetItem", 200, None, 0.002, usage)
    text = generate_latest(metrics.registry).decode()
    assert 'scylla_alternator_operation{op="GetItem"}' not in text  # not flushed yet
    metrics.flush()
    text = generate_latest(metrics.registry).decode()
    assert 'scylla_alternator_operation{op="GetItem"} 1.0' in text
    assert 'scylla_alternator_table_rcu_total{cf="t",ks="alternator_t"} 0.5' in text
    assert 'scylla_alternator_op_latency_bucket{le="2500.0",op="GetItem"} 1.0' in text
    assert 'scylla_alternator_op_latency_bucket{le="1000.0",op="GetItem"} 0.0' in text
