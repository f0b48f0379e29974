"""Black-box test harness.

Each backend gets one server, started in-process on a free port in a thread of its own and
reached only over HTTP, by boto3, the aws CLI or plain HTTP. Tests that take the ``dynamodb``
fixture run once per backend.

The Cassandra backend needs a running node: ``make test`` starts one and sets
``ALTERNATOR_TEST_CASSANDRA=host:port``. Without it the Cassandra cases are skipped, unless
``ALTERNATOR_REQUIRE_CASSANDRA=1`` (set by ``make test`` and CI), which turns that into a failure.
``--url`` runs the suite against an already running server instead.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from alternator.config import CassandraConfig, Config, WriteIsolation
from alternator.runner import RunningServer, start_server

BACKENDS = ("sqlite", "cassandra")
# The cluster stage (tests/cluster/) runs only against the multi-node cluster `make test-cluster`
# starts, which sets ALTERNATOR_TEST_CLUSTER; the main suite never collects it.
collect_ignore = [] if os.environ.get("ALTERNATOR_TEST_CLUSTER") else ["cluster"]
# Server processes the tests start listen for metrics only where a test asks them to.
os.environ.setdefault("ALTERNATOR_PROMETHEUS_PORT", "none")
# How long the test servers cache roles and permissions: tests that change them wait this long.
CREDENTIALS_VALIDITY = 0.5


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--url", default=None, help="test an already running server at this URL")


@dataclass
class Endpoint:
    backend: str
    url: str
    access_key: str
    secret_key: str
    sqlite_path: str | None = None
    metrics_url: str | None = None  # the server's GET /metrics

    def client(self, **config: Any) -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=BotoConfig(retries={"max_attempts": 1}, **config),
        )


def signed_headers(endpoint: Endpoint, body: bytes, headers: dict[str, str],
                   path: str = "/") -> dict[str, str]:
    """Headers of a POST signed with SigV4 by botocore, as an AWS SDK would send them."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=endpoint.url + path, data=body, headers=headers)
    SigV4Auth(Credentials(endpoint.access_key, endpoint.secret_key), "dynamodb",
              "us-east-1").add_auth(request)
    return dict(request.headers.items())


class ServerThread:
    """A server on its own event loop in a daemon thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.server: RunningServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(start_server(self.config))
        except BaseException as exc:
            self._error = exc
            self.loop.close()
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def start(self) -> str:
        """Start; the URL of the plain HTTP port, or of the HTTPS one if there is no other."""
        self._thread.start()
        self._ready.wait(120)
        if self._error is not None:
            raise self._error
        assert self.server is not None
        if self.server.port is None:
            return f"https://127.0.0.1:{self.server.https_port}"
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)


@contextmanager
def own_sqlite_server(directory: str, **config: Any) -> Iterator[tuple[ServerThread, Endpoint]]:
    """A server of a test module's own on a new embedded database in ``directory`` (plain HTTP,
    a superuser's credentials): for tests that change its settings or slow its storage."""
    db = os.path.join(directory, "own.db")
    secret = sqlite_superuser(db)
    thread = ServerThread(Config(port=0, https_port=None, sqlite_path=db, **config))
    url = thread.start()
    try:
        yield thread, Endpoint("sqlite", url, "alternator", secret, db)
    finally:
        thread.stop()


def cassandra_address() -> tuple[str, int] | None:
    value = os.environ.get("ALTERNATOR_TEST_CASSANDRA")
    if not value:
        return None
    host, _, port = value.partition(":")
    return host, int(port or 9042)


def cassandra_serve_args() -> list[str]:
    """`alternator serve` arguments for a server process on the test Cassandra node."""
    address = cassandra_address()
    assert address is not None
    return ["--backend", "cassandra", "--cassandra-host", address[0],
            "--cassandra-port", str(address[1]), "--cassandra-username", "cassandra",
            "--cassandra-password", "cassandra", "--cassandra-replication", "1",
            "--alternator-write-isolation", "only_rmw_uses_lwt"]


def cassandra_salted_hash(role: str = "cassandra") -> str:
    """The secret access key of a CQL role: its salted_hash, read with real CQL."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    address = cassandra_address()
    assert address is not None
    cluster = Cluster([address[0]], port=address[1],
                      auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    try:
        session = cluster.connect()
        row = session.execute("SELECT salted_hash FROM system_auth.roles WHERE role = %s",
                              (role,)).one()
        return str(row.salted_hash)
    finally:
        cluster.shutdown()


def sqlite_superuser(path: str, name: str = "alternator") -> str:
    """Create (or find) a superuser in an embedded database; return its secret access key."""
    from alternator.roles import RoleAdmin

    admin = RoleAdmin(path)
    try:
        role = admin.get(name) or admin.create(name, "test-password", superuser=True, rounds=4)
        assert role.salted_hash is not None
        return role.salted_hash
    finally:
        admin.close()


def cassandra_config() -> CassandraConfig:
    address = cassandra_address()
    assert address is not None
    return CassandraConfig(contact_points=(address[0],), port=address[1],
                           username="cassandra", password="cassandra", replication_factor=1)


@pytest.fixture(scope="session")
def tmp_state_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="alternator-test-") as path:
        yield path


_servers: dict[str, tuple[ServerThread, Endpoint]] = {}


def _server_for(backend: str, state_dir: str) -> Endpoint:
    if backend in _servers:
        return _servers[backend][1]
    if backend == "cassandra":
        if cassandra_address() is None:
            if os.environ.get("ALTERNATOR_REQUIRE_CASSANDRA") == "1":
                pytest.fail("ALTERNATOR_REQUIRE_CASSANDRA=1 but ALTERNATOR_TEST_CASSANDRA unset")
            pytest.skip("no Cassandra node (run `make test`, or set ALTERNATOR_TEST_CASSANDRA)")
        config = Config(port=0, backend="cassandra", cassandra=cassandra_config(),
                        write_isolation=WriteIsolation.ONLY_RMW_USES_LWT,
                        credentials_validity=CREDENTIALS_VALIDITY,
                        allow_system_table_write=True, test_hooks=True, ttl_period=1.0,
                        prometheus_port=0)
        access_key, secret = "cassandra", cassandra_salted_hash()
    else:
        config = Config(port=0, backend="sqlite", sqlite_path=os.path.join(state_dir, "test.db"),
                        credentials_validity=CREDENTIALS_VALIDITY, test_hooks=True,
                        ttl_period=1.0, prometheus_port=0)
        access_key, secret = "alternator", sqlite_superuser(config.sqlite_path)
    thread = ServerThread(config)
    endpoint = Endpoint(backend, thread.start(), access_key, secret,
                        config.sqlite_path if backend == "sqlite" else None)
    assert thread.server is not None
    endpoint.metrics_url = f"http://127.0.0.1:{thread.server.prometheus_port}/metrics"
    _servers[backend] = (thread, endpoint)
    return endpoint


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for thread, _ in _servers.values():
        thread.stop()
    _servers.clear()


@pytest.fixture(scope="session", params=BACKENDS)
def endpoint(request: pytest.FixtureRequest, tmp_state_dir: str) -> Endpoint:
    url = request.config.getoption("--url")
    if url:
        if request.param != "sqlite":
            pytest.skip("--url tests one server")
        return Endpoint("external", url, os.environ.get("AWS_ACCESS_KEY_ID", "alternator"),
                        os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    return _server_for(request.param, tmp_state_dir)


@pytest.fixture(params=["sqlite", "cassandra"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[list[str], tuple[str, str]]:
    """Server arguments and credentials of a store that outlives its server processes (tests
    that start their own, tests/test_processes.py)."""
    if request.param == "cassandra":
        if cassandra_address() is None:
            if os.environ.get("ALTERNATOR_REQUIRE_CASSANDRA") == "1":
                pytest.fail("Cassandra required but not configured")
            pytest.skip("no Cassandra node")
        return cassandra_serve_args(), ("cassandra", cassandra_salted_hash())
    path = str(tmp_path / "store.db")
    return ["--backend", "sqlite", "--sqlite-path", path], ("alternator", sqlite_superuser(path))


@pytest.fixture(scope="session")
def dynamodb(endpoint: Endpoint) -> Any:
    """A boto3 client with client-side validation (as applications use it)."""
    return endpoint.client()


@pytest.fixture(scope="session")
def raw_dynamodb(endpoint: Endpoint) -> Any:
    """A boto3 client that sends whatever it is given, to test the server's own validation."""
    return endpoint.client(parameter_validation=False)


def unique_table_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_table(client: Any, key_schema: list[tuple[str, str, str]],
                 attributes: tuple[tuple[str, str], ...] = (), **extra: Any) -> str:
    """Create a table from (name, HASH|RANGE, S|N|B) triples, with more attribute definitions
    (name, type) for its indexes; return its name."""
    name = unique_table_name()
    definitions = [(n, t) for n, _, t in key_schema] + list(attributes)
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, k, _ in key_schema],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in definitions],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


@pytest.fixture(scope="session")
def table_hash(dynamodb: Any) -> Iterator[str]:
    """A shared table with a string partition key ``p`` only."""
    name = create_table(dynamodb, [("p", "HASH", "S")])
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture(scope="session")
def table_hash_range(dynamodb: Any) -> Iterator[str]:
    """A shared table with partition key ``p`` (S) and sort key ``c`` (N)."""
    name = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")])
    yield name
    dynamodb.delete_table(TableName=name)


def new_key() -> str:
    return uuid.uuid4().hex


def error_of(exc: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    """The (code, message) of a boto3 ClientError."""
    error = exc.value.response["Error"]
    return str(error["Code"]), str(error["Message"])
