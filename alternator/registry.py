"""The registry of servers behind ``GET /localnodes`` (docs/cluster.md).

Every server process serving the DynamoDB API enters itself in the backend (its address,
ports, datacenter and rack) for a short lease, renewed every ``announce_period`` seconds and
lasting ``announce_lease`` seconds: a server that dies without a word drops out once its lease
runs out, one that stops removes its entry at once. Under ``--workers`` the entry is the
server's, not each worker's: worker 0 announces it (a worker that dies is restarted at once,
normally well within a lease); every worker answers ``/localnodes`` from it.

``/localnodes`` lists, as ScyllaDB's does, the IP addresses (sorted, each once) of the live
servers of a datacenter, optionally of one rack; this server itself is always among those of
its own datacenter and rack, registered yet or not, at the address the request reached when it
listens on a wildcard address without ``--alternator-advertise-address``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from alternator.config import Config
from alternator.faults import RateLimitedLog
from alternator.storage import ServerEntry, Storage

log = logging.getLogger("alternator.registry")
faults = RateLimitedLog(log)

WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def is_wildcard(address: str) -> bool:
    return address in WILDCARDS


def route_address(target: str, port: int) -> str | None:
    """The local address this host reaches ``target`` from (no packet is sent): what other
    hosts most likely reach it at. None if there is no route."""
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(target, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(sockaddr)
            return str(probe.getsockname()[0])
    except OSError:
        return None


def announced_address(config: Config) -> str:
    """The address the server enters in the registry: ``--alternator-advertise-address``, else
    the address it listens on unless that is a wildcard, else the address it reaches the
    backend from (Cassandra's first contact point; for SQLite, whose servers share one host,
    the loopback address)."""
    if config.advertise_address:
        return config.advertise_address
    if not is_wildcard(config.address):
        return config.address
    if config.backend == "cassandra" and config.cassandra.contact_points:
        found = route_address(config.cassandra.contact_points[0], config.cassandra.port)
        if found is not None:
            return found
    return "::1" if ":" in config.address else "127.0.0.1"


def listing(entries: list[ServerEntry], own: ServerEntry | None, own_address: str,
            datacenter: str, rack: str | None) -> list[str]:
    """The answer of ``/localnodes``: the addresses of the servers of ``datacenter`` (and
    ``rack``), each once, sorted; this server (``own``, reached at ``own_address``) among them
    when it is placed there."""
    mine = None if own is None else (own.address, own.port, own.https_port)
    addresses = {e.address for e in entries
                 if (rack is None or e.rack == rack) and (e.address, e.port, e.https_port) != mine}
    if own is not None and own.datacenter == datacenter and rack in (None, own.rack):
        addresses.add(own_address)
    return sorted(addresses)


class Registry:
    """This server's entry in the registry of servers, and the registry as it answers
    ``/localnodes``. :meth:`prepare` before listening, :meth:`start` once the ports are bound,
    :meth:`stop` first thing at shutdown."""

    def __init__(self, storage: Storage, config: Config) -> None:
        self._storage = storage
        self._config = config
        self._announcer: asyncio.Task[None] | None = None
        self.datacenter: str | None = None
        self.rack: str | None = None
        self.entry: ServerEntry | None = None  # once started

    async def prepare(self) -> None:
        """Find this server's datacenter and rack (configured, or the backend's default)."""
        config = self._config
        datacenter, rack = config.datacenter, config.rack
        if datacenter is None or rack is None:
            found_dc, found_rack = await self._storage.placement(announced_address(config))
            datacenter = datacenter or found_dc
            rack = rack or found_rack
        self.datacenter, self.rack = datacenter, rack

    async def start(self, port: int | None, https_port: int | None) -> None:
        """Announce this server (worker 0 only) and keep renewing its entry."""
        if self.datacenter is None or self.rack is None:
            await self.prepare()
        assert self.datacenter is not None and self.rack is not None
        self.entry = ServerEntry(self.datacenter, self.rack, announced_address(self._config),
                                 port or 0, https_port or 0)
        if self._config.worker_id != 0:
            return
        await self._announce()  # before the first request, when the backend answers
        self._announcer = asyncio.get_running_loop().create_task(self._renew())

    async def stop(self) -> None:
        """Stop renewing and remove this server's entry."""
        if self._announcer is None:
            return
        self._announcer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._announcer
        self._announcer = None
        assert self.entry is not None
        try:
            await self._storage.withdraw(self.entry)
        except Exception as error:  # it expires with its lease anyway
            log.warning("could not remove this server from the registry: %r", error)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._config.announce_period)
            await self._announce()

    async def _announce(self) -> None:
        assert self.entry is not None
        try:
            await self._storage.announce(self.entry, self._config.announce_lease)
        except Exception as error:  # the backend is down: try again at the next period
            faults.log(logging.WARNING, "could not renew this server's registry entry: %r",
                       error)

    async def local_nodes(self, datacenter: str | None, rack: str | None,
                          reached: str | None) -> list[str]:
        """``/localnodes``: the servers of ``datacenter`` (default: this server's) and ``rack``;
        ``reached`` is the local address the request came in at."""
        if self.datacenter is None:
            await self.prepare()
        own_dc = self.datacenter or ""
        datacenter = own_dc if datacenter is None else datacenter
        entries = await self._storage.servers(datacenter)
        own = self.entry or ServerEntry(own_dc, self.rack or "", announced_address(self._config),
                                        0, 0)
        return listing(entries, own, self.own_address(reached), datacenter, rack)

    def own_address(self, reached: str | None) -> str:
        """This server's address in its own answers."""
        config = self._config
        if config.advertise_address or not is_wildcard(config.address):
            return announced_address(config)
        return reached or announced_address(config)
