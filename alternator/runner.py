"""Composition root: open the configured storage, build the app, listen; and stop it all."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from alternator.config import Config
from alternator.server import make_app
from alternator.storage import Storage


async def open_storage(config: Config) -> Storage:
    if config.backend == "cassandra":
        from alternator.storage.cql import CassandraStorage

        cassandra = CassandraStorage(config.cassandra)
        await cassandra.open()
        return cassandra
    from alternator.storage.sqlite import SQLiteStorage

    sqlite = SQLiteStorage(config.sqlite_path)
    await sqlite.open()
    return sqlite


@dataclass(slots=True)
class RunningServer:
    runner: web.AppRunner
    storage: Storage
    port: int

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.storage.close()


async def start_server(config: Config, storage: Storage | None = None) -> RunningServer:
    """Start serving; ``config.port`` 0 picks a free port (see ``RunningServer.port``)."""
    if storage is None:
        storage = await open_storage(config)
    # Request bodies are inflated by the server itself, after their signature is checked.
    runner = web.AppRunner(make_app(config, storage), access_log=None, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, config.address, config.port or 0)
    await site.start()
    port = runner.addresses[0][1]
    return RunningServer(runner, storage, int(port))
