"""A Cassandra outage: fast 503s while it lasts, serving again within seconds of its end.

The outage is made with a TCP proxy between the server and the suite's node, closed and
reopened, so the node every other test uses is never stopped; to the driver it looks like a
node that went down (connections cut, then refused) and came back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from alternator.config import CassandraConfig, Config, WriteIsolation

from conftest import Endpoint, ServerThread, cassandra_address, cassandra_salted_hash

pytestmark = [pytest.mark.cassandra, pytest.mark.slow]


class Proxy:
    """Forwards 127.0.0.1:port to the target until stopped; can be started again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def behind_proxy() -> Iterator[tuple[Proxy, Any]]:
    address = cassandra_address()
    if address is None:
        pytest.skip("no Cassandra node")
    proxy = Proxy(address)
    proxy.start()
    config = Config(port=0, https_port=None, backend="cassandra",
                    cassandra=CassandraConfig(contact_points=("127.0.0.1",), port=proxy.port,
                                              username="cassandra", password="cassandra",
                                              replication_factor=1),
                    write_isolation=WriteIsolation.ONLY_RMW_USES_LWT)
    thread = ServerThread(config)
    url = thread.start()
    client = Endpoint("cassandra", url, "cassandra", cassandra_salted_hash()).client()
    try:
        yield proxy, client
    finally:
        proxy.stop()
        proxy.start()  # let the server's driver shut down cleanly
        thread.stop()
        proxy.stop()


def test_serving_resumes_within_seconds_of_the_database(behind_proxy: tuple[Proxy, Any]
                                                        ) -> None:
    proxy, client = behind_proxy
    client.list_tables()
    proxy.stop()
    codes: list[str] = []
    down_until = time.monotonic() + 15  # long enough for an unbounded backoff to grow past 8 s
    while time.monotonic() < down_until:
        start = time.monotonic()
        with pytest.raises(ClientError) as exc:
            client.list_tables()
        assert time.monotonic() - start < 12  # never hangs for the driver's whole timeout
        codes.append(exc.value.response["Error"]["Code"])
        time.sleep(0.5)
    assert "ServiceUnavailableException" in codes or "ServiceUnavailable" in codes, codes
    proxy.start()
    back = time.monotonic()
    while True:
        try:
            client.list_tables()
            break
        except ClientError:
            assert time.monotonic() - back < 5, "not serving 5 s after the database came back"
            time.sleep(0.2)
    assert time.monotonic() - back < 5
