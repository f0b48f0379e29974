"""Prometheus metrics (docs/monitoring.md).

:mod:`.usage` is what a request did, counted by the code that does it (pure, no dependency);
:mod:`.registry` turns each finished request into ScyllaDB Alternator's metrics;
:mod:`.exposition` serves them at ``/metrics``, for one process or for ``--workers N``.
"""
