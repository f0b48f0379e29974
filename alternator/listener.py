"""Listening sockets and connections, with the limits of a production HTTP server.

aiohttp parses HTTP; this module decides how long and how many connections may stay. Each
process accepts at most ``max_connections``; a connection past it is answered 503 and closed.
A connection waiting for a request (a new one, or kept alive after an answer) is closed after
``idle_timeout``; a request whose headers have not all arrived ``header_timeout`` after its first
byte is closed too (slowloris). Body timeouts and sizes are the request handler's (intake.py).
Pinned by tests/test_limits.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import Any

import orjson
from aiohttp import web

from alternator.config import Limits
from alternator.faults import RateLimitedLog, printable

log = logging.getLogger("alternator")
http_faults = RateLimitedLog(logging.getLogger("alternator.clients"))

CONTENT_TYPE = "application/x-amz-json-1.0"
_TOO_MANY = orjson.dumps({
    "__type": "com.amazon.coral.service#ServiceUnavailableException",
    "Message": "Too many open connections; retry later",
})
TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: " + CONTENT_TYPE.encode() + b"\r\n"
    b"Content-Length: " + str(len(_TOO_MANY)).encode() + b"\r\n"
    b"Connection: close\r\n\r\n" + _TOO_MANY
)
# How long an answered request's unread body is still read (and dropped) before the
# connection closes, so that the client sees the answer instead of a reset.
LINGERING_SECONDS = 2.0


class Connections:
    """The open connections of one process, counted against its limit."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open = 0
        self.refused = 0


class Connection(web.RequestHandler):
    """aiohttp's connection handler, with a connection limit and a header timeout."""

    def __init__(self, manager: web.Server, connections: Connections, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._connections = connections
        self._counted = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_of = -1  # the request count when the pending header's first byte came

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        connections = self._connections
        if connections.open >= connections.limits.max_connections:
            connections.refused += 1
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(TOO_MANY_CONNECTIONS)
            transport.close()
            return
        connections.open += 1
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self._counted:
            return
        self._counted = False
        self._connections.open -= 1
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._request_in_progress and (self._close or self._force_close) \
                and self.transport is not None:
            # Shutting down (aiohttp then stops reading): the request in flight still gets the
            # rest of its body, so that draining can finish it (tests/test_supervisor.py).
            closing, forced = self._close, self._force_close
            self._close = self._force_close = False
            try:
                super().data_received(data)
            finally:
                self._close = self._close or closing
                self._force_close = self._force_close or forced
            return
        super().data_received(data)
        waiting = self._waiter is not None and not self._waiter.done()
        if not waiting or not data:
            return  # a request is being served: its body's timeout is the handler's
        # Bytes came but no whole request head yet: its headers must be done in time.
        if self._header_timer is not None and self._header_of == self._request_count:
            return
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_of = self._request_count
        self._header_timer = self._loop.call_later(
            self._connections.limits.header_timeout, self._header_deadline)

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A request aiohttp could not parse (or a failure outside our handler), answered in
        DynamoDB's error shape; client faults are logged at a bounded rate, without traceback."""
        if status >= 500:
            log.error("error serving a request from %s", request.remote, exc_info=exc)
            code, text = "InternalServerError", "Internal server error"
        else:
            http_faults.log(logging.INFO, "malformed HTTP request from %s: %s",
                            request.remote, printable(str(exc or message or "")))
            code, text = "SerializationException", "Malformed HTTP request"
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already being sent")
        namespace = "com.amazonaws.dynamodb.v20120810#" if status >= 500 else \
            "com.amazon.coral.service#"
        key = "message" if status >= 500 else "Message"
        response = web.Response(status=status, content_type=CONTENT_TYPE,
                                body=orjson.dumps({"__type": namespace + code, key: text}))
        response.force_close()
        return response

    def _header_deadline(self) -> None:
        self._header_timer = None
        if self._request_count == self._header_of and self._waiter is not None \
                and not self._waiter.done():
            self.force_close()


class Site(web.BaseSite):
    """A TCP listening socket whose connections are :class:`Connection` s."""

    def __init__(self, runner: web.BaseRunner, connections: Connections, host: str, port: int,
                 *, ssl_context: ssl.SSLContext | None = None, reuse_port: bool = False,
                 backlog: int = 1024) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=backlog)
        self._connections = connections
        self._host = host
        self._port = port
        self._reuse_port = reuse_port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    def bound_port(self) -> int:
        assert self._server is not None
        sockets: list[socket.socket] = list(getattr(self._server, "sockets", ()))
        return int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        await super().start()
        manager = self._runner.server
        assert manager is not None
        loop = asyncio.get_running_loop()
        limits = self._connections.limits
        connections = self._connections

        def connection() -> Connection:
            return Connection(manager, connections, loop=loop,
                              keepalive_timeout=limits.idle_timeout,
                              lingering_time=LINGERING_SECONDS,
                              auto_decompress=False, access_log=None)

        self._server = await loop.create_server(
            connection, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=True, reuse_port=self._reuse_port or None,
            ssl_handshake_timeout=limits.header_timeout if self._ssl_context else None,
        )
