"""Composition root: open the configured storage, build the app, listen; and stop it all."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from alternator.config import Config
from alternator.listener import Connections, Site
from alternator.server import STATE, make_app, make_metrics_app
from alternator.storage import Storage
from alternator.tls import ServingFiles, ensure_serving_files, server_context


async def open_storage(config: Config) -> Storage:
    if config.backend == "cassandra":
        from functools import partial

        from alternator.derived import rows_of
        from alternator.storage.cassandra import CassandraStorage

        cassandra = CassandraStorage(config.cassandra,
                                     partial(rows_of, test_hooks=config.test_hooks),
                                     config.streams, config.transaction_timeout)
        await cassandra.open()
        return cassandra
    from alternator.storage.sqlite import SQLiteStorage

    sqlite = SQLiteStorage(config.sqlite_path, config.sqlite_synchronous)
    await sqlite.open()
    return sqlite


@dataclass(slots=True)
class RunningServer:
    runner: web.AppRunner
    storage: Storage
    port: int | None
    https_port: int | None = None
    tls: ServingFiles | None = None
    connections: Connections | None = None
    metrics_runner: web.AppRunner | None = None
    prometheus_port: int | None = None

    async def stop(self) -> None:
        # Out of /localnodes first, while requests in flight finish.
        await self.runner.app[STATE].registry.stop()
        if self.metrics_runner is not None:
            await self.metrics_runner.cleanup()
        await self.runner.cleanup()
        await self.storage.close()


async def start_server(config: Config, storage: Storage | None = None) -> RunningServer:
    """Start serving; a port of 0 picks a free one (see ``RunningServer``)."""
    if config.port is None and config.https_port is None:
        raise ValueError("neither an HTTP nor an HTTPS port is configured")
    tls = prepare_tls(config)
    context = server_context(tls, config.client_ca) if tls is not None else None
    if storage is None:
        storage = await open_storage(config)
    # Request bodies are inflated by the server itself, after their signature is checked.
    app = make_app(config, storage)
    runner = web.AppRunner(app, access_log=None, auto_decompress=False,
                           shutdown_timeout=config.limits.shutdown_timeout)
    await runner.setup()
    registry = app[STATE].registry
    await registry.prepare()
    connections = Connections(config.limits)
    server = RunningServer(runner, storage, None, None, tls, connections)
    reuse = config.workers > 1
    if config.port is not None:
        site = Site(runner, connections, config.address, config.port, reuse_port=reuse)
        await site.start()
        server.port = site.bound_port()
    if config.https_port is not None:
        secure = Site(runner, connections, config.address, config.https_port,
                      ssl_context=context, reuse_port=reuse)
        await secure.start()
        server.https_port = secure.bound_port()
    await registry.start(server.port, server.https_port)
    if config.prometheus_port is not None and config.workers == 1:
        # (Under --workers the supervisor serves every worker's metrics: supervisor.py.)
        server.metrics_runner = web.AppRunner(make_metrics_app(app), access_log=None)
        await server.metrics_runner.setup()
        metrics_site = web.TCPSite(server.metrics_runner,
                                   config.prometheus_address or config.address,
                                   config.prometheus_port, reuse_address=True)
        await metrics_site.start()
        server.prometheus_port = _bound_port(metrics_site)
    return server


def _bound_port(site: web.TCPSite) -> int:
    server = site._server
    sockets = list(getattr(server, "sockets", ()))
    return int(sockets[0].getsockname()[1])


def prepare_tls(config: Config) -> ServingFiles | None:
    """The HTTPS certificate files, generating the serving CA and certificate if needed."""
    if config.https_port is None:
        return None
    if config.certificate is not None:
        if config.key is None:
            raise ValueError("a certificate needs its key (--alternator-https-key)")
        return ServingFiles(Path(config.certificate), Path(config.key), None)
    return ensure_serving_files(config.state_dir, [config.address])


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run the server's event loop: uvloop where it is installed (faster), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


async def serve_until_signal(
    config: Config, started: Callable[[RunningServer], None] | None = None,
    parent: int | None = None,
) -> None:
    """Serve in this process until SIGINT or SIGTERM (or, for a worker, until the process
    ``parent`` is gone); ``started`` is told once listening. Stopping stops listening at once
    and lets requests in flight finish for up to ``limits.shutdown_timeout`` seconds."""
    server = await start_server(config)
    if started is not None:
        started(server)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watch = None if parent is None else asyncio.create_task(_watch_parent(parent, stop))
    try:
        await stop.wait()
    finally:
        if watch is not None:
            watch.cancel()
        await server.stop()


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    """Stop once the supervisor is gone (its worker is then re-parented), in case the
    PR_SET_PDEATHSIG signal was not available."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    stop.set()
