"""HTTP over a plain socket, for what well-behaved clients never send: stray bytes in headers,
bodies that never end, connections that never speak."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

LIST = "DynamoDB_20120810.ListTables"


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    parsed = urlparse(url)
    assert parsed.hostname is not None and parsed.port is not None
    return socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)


def head(headers: list[tuple[bytes, bytes]], method: bytes = b"POST",
         path: bytes = b"/") -> bytes:
    lines = [method + b" " + path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def forged_auth(access_key: str, when: datetime | None = None) -> list[tuple[bytes, bytes]]:
    """Authorization naming a real role, with a signature nobody computed: the server must read
    the body to find out it is wrong."""
    when = when or datetime.now(UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{access_key}/{amz_date[:8]}/us-east-1/dynamodb/aws4_request"
    return [
        (b"X-Amz-Date", amz_date.encode()),
        (b"Authorization", (f"AWS4-HMAC-SHA256 Credential={credential}, "
                            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}").encode()),
    ]


def dynamodb_head(length: int, extra: list[tuple[bytes, bytes]] | None = None,
                  target: str = LIST) -> bytes:
    return head([(b"Host", b"127.0.0.1"), (b"Content-Type", b"application/x-amz-json-1.0"),
                 (b"X-Amz-Target", target.encode()), (b"Content-Length", str(length).encode()),
                 *(extra or [])])


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response; raises ConnectionError if the server closed without answering."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed without an answer (got {data!r})")
        data += chunk
    header, _, body = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip()
               for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def error_type(body: bytes) -> str:
    parsed: dict[str, Any] = json.loads(body)
    return str(parsed["__type"]).rsplit("#", 1)[-1]


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the connection (reading and dropping anything it
    answers), or None if it was still open after ``seconds``."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except TimeoutError:
            continue
        except ConnectionError:
            return time.monotonic() - start
    return None
