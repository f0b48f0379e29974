"""Trivial endpoints answering every POST with ``{}``.

``raw``: an asyncio protocol on uvloop writing a fixed response, as cheap as a Python server
gets; the load generator's ceiling is measured against it.
``aiohttp``: an aiohttp app with one handler returning ``{}``, served like the real server
(no uvloop, ``--workers`` processes sharing the port with SO_REUSEPORT): what a request costs
aiohttp itself, the bar for GetItem on the embedded backend.

    python -m bench.trivial raw|aiohttp PORT [WORKERS]
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import sys
from typing import Any

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"Content-Length: 2\r\n\r\n{}")


class _Raw(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            at = head.find(b"\r\ncontent-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17:stop if stop >= 0 else len(head)])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(RESPONSE)


async def _serve_raw(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Raw, "127.0.0.1", port, reuse_port=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def _run_aiohttp(port: int) -> None:
    from aiohttp import web

    async def empty(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b"{}", content_type="application/x-amz-json-1.0")

    app = web.Application()
    app.router.add_post("/", empty)
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=True, access_log=None,
                print=None, handle_signals=True)


def _worker(kind: str, port: int) -> None:
    if kind == "raw":
        import uvloop  # type: ignore[import-not-found]

        uvloop.run(_serve_raw(port))
    else:
        _run_aiohttp(port)


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if workers == 1:
        _worker(kind, port)
        return
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_worker, args=(kind, port), daemon=True)
                for _ in range(workers)]
    for child in children:
        child.start()

    def stop(signum: int, frame: object) -> None:
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


if __name__ == "__main__":
    main()
