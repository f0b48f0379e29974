"""``GET /metrics``: Prometheus' text format, as ``prometheus_client`` writes it.

One server process serves its own registry on its metrics listener (``--prometheus-address``,
``--prometheus-port``, 9180 by default as ScyllaDB). Under ``--workers N`` the supervisor serves
it instead: before starting the workers it points ``prometheus_client`` at a directory of
shared files (:func:`use_shared_files`), every worker's metrics are kept in its own files there,
and a scrape sums them over the workers, the ones that died and were restarted included, so a
counter never goes back (:func:`serve_shared`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_shared_files() -> str:
    """Make the processes started from now on keep their metrics in a fresh shared directory
    (prometheus_client's multi-process mode); must run before prometheus_client is imported."""
    directory = tempfile.mkdtemp(prefix="alternator-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    return directory


def remove_shared_files(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    os.environ.pop(MULTIPROCESS_ENV, None)


def serve_shared(address: str, port: int) -> Callable[[], None]:
    """Serve the sum of every worker's metrics from a thread of this (the supervisor's)
    process; returns what stops it."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server, thread = start_http_server(port, address, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop


def render(registry: object) -> tuple[bytes, str]:
    """The exposition of one process's registry, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    assert isinstance(registry, CollectorRegistry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
