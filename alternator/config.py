"""The server's configuration: one frozen dataclass, filled from flags and environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class WriteIsolation(Enum):
    ALWAYS_USE_LWT = "always_use_lwt"
    ONLY_RMW_USES_LWT = "only_rmw_uses_lwt"
    FORBID_RMW = "forbid_rmw"
    UNSAFE_RMW = "unsafe_rmw"


# Every spelling the `system:write_isolation` tag and --alternator-write-isolation accept.
WRITE_ISOLATION_ALIASES: dict[str, WriteIsolation] = {
    "a": WriteIsolation.ALWAYS_USE_LWT,
    "always": WriteIsolation.ALWAYS_USE_LWT,
    "always_use_lwt": WriteIsolation.ALWAYS_USE_LWT,
    "o": WriteIsolation.ONLY_RMW_USES_LWT,
    "only_rmw_uses_lwt": WriteIsolation.ONLY_RMW_USES_LWT,
    "f": WriteIsolation.FORBID_RMW,
    "forbid": WriteIsolation.FORBID_RMW,
    "forbid_rmw": WriteIsolation.FORBID_RMW,
    "u": WriteIsolation.UNSAFE_RMW,
    "unsafe": WriteIsolation.UNSAFE_RMW,
    "unsafe_rmw": WriteIsolation.UNSAFE_RMW,
}

WRITE_ISOLATION_TAG = "system:write_isolation"


def parse_write_isolation(text: str) -> WriteIsolation | None:
    return WRITE_ISOLATION_ALIASES.get(text)


@dataclass(frozen=True, slots=True)
class CassandraConfig:
    contact_points: tuple[str, ...] = ("127.0.0.1",)
    port: int = 9042
    username: str | None = None
    password: str | None = None
    local_datacenter: str | None = None
    # Replication of the metadata keyspace and of every new table (--cassandra-replication):
    # per datacenter when listed, else this factor in every datacenter.
    replication_factor: int = 3
    replication_per_datacenter: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    """What one server process lets clients hold (docs/security.md explains each)."""

    max_connections: int = 1024  # open connections per process; more are answered 503
    header_timeout: float = 10.0  # seconds from a request's first byte to its last header
    body_timeout: float = 60.0  # seconds for a request's whole body to arrive
    idle_timeout: float = 60.0  # seconds a connection may wait for its (next) request
    max_buffered_bytes: int = 128 * 1024 * 1024  # request bytes in flight in the process
    max_buffered_bytes_per_client: int = 64 * 1024 * 1024  # of them, from one client address
    shutdown_timeout: float = 10.0  # seconds SIGTERM waits for in-flight requests


@dataclass(frozen=True, slots=True)
class StreamsConfig:
    """DynamoDB Streams (docs/streams.md)."""

    # Cassandra: how far behind now readers stay, so that records written concurrently by
    # several server processes are in place before a reader passes them (Scylla's name).
    time_window: float = 1.0
    shards: int = 4  # hash buckets per shard generation, for new streams
    shard_period: float = 3600.0  # seconds per shard generation, for new streams
    retention: float = 24 * 3600.0  # seconds a record stays readable
    iterator_lifetime: float = 15 * 60.0  # seconds a shard iterator stays valid


@dataclass(frozen=True, slots=True)
class Config:
    address: str = "127.0.0.1"
    port: int | None = 8000  # plain HTTP; None: none
    https_port: int | None = None  # HTTPS; None: none
    # The Prometheus metrics listener (GET /metrics); None: none. Its address defaults to
    # ``address``.
    prometheus_port: int | None = None
    prometheus_address: str | None = None
    # HTTPS certificate and key; when not given, generated under state_dir with a serving CA.
    certificate: str | None = None
    key: str | None = None
    client_ca: str | None = None  # require client certificates signed by this CA (mutual TLS)
    state_dir: str = ".alternator"
    backend: str = "sqlite"
    sqlite_path: str = "alternator.db"
    cassandra: CassandraConfig = field(default_factory=CassandraConfig)
    write_isolation: WriteIsolation | None = WriteIsolation.ONLY_RMW_USES_LWT
    region: str = "us-east-1"
    max_request_bytes: int = 16 * 1024 * 1024
    allow_system_table_write: bool = False
    # Authentication and authorization (docs/authentication.md).
    enforce_authorization: bool = True
    warn_authorization: bool = False
    credentials_validity: float = 2.0
    workers: int = 1  # processes sharing the ports with SO_REUSEPORT
    sqlite_synchronous: str = "full"  # SQLite's PRAGMA synchronous: full, normal or off
    limits: Limits = field(default_factory=Limits)
    worker_id: int = 0  # which of them this process is (system.clients' shard_id)
    # How often the expiry service scans every TTL-enabled table (Scylla's default: 24 h).
    ttl_period: float = 24 * 3600.0
    # How often each server process looks for secondary indexes still to backfill (one that
    # this process's UpdateTable created starts at once): operations/backfill.py.
    backfill_period: float = 10.0
    streams: StreamsConfig = field(default_factory=StreamsConfig)
    # Cassandra: how long a transaction may stay uncommitted before whoever meets it rolls it
    # back (docs/transactions.md).
    transaction_timeout: float = 5.0
    # HTTP (docs/http.md): startup values of what alternator/settings.py lets change at run time.
    response_compression_threshold: int = 4096  # bytes; smaller responses are sent as they are
    response_compression_level: int = 6  # gzip/deflate level 1-9; 0: responses never compressed
    request_timeout: float = 0.0  # seconds an operation may take; 0: no limit
    max_concurrent_requests: int = 0  # DynamoDB requests served at once per process; 0: no limit
    access_log: bool = False  # one JSON line per request on the alternator.access logger
    # Test-only structures (the derived-row shadow, alternator/derived.py); never in production.
    test_hooks: bool = False
    # The command line's options as (name, value, source), for the configuration table
    # (.scylla.alternator.system.config); empty when the server was not started from it.
    options: tuple[tuple[str, str, str], ...] = ()
    # Under --workers: a directory the supervisor made for its workers to share (run-time
    # changes of system.config are passed on through it).
    shared_dir: str | None = None
    log_level: str = "INFO"  # the level of the server's logs (changeable at run time)
    # The registry of servers behind GET /localnodes (docs/cluster.md): the address announced
    # (None: ``address`` unless a wildcard), the placement (None: the backend's default), and
    # how often the entry is renewed and how long it lasts unrenewed (seconds).
    advertise_address: str | None = None
    datacenter: str | None = None
    rack: str | None = None
    announce_period: float = 1.0
    announce_lease: float = 5.0
