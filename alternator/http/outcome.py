"""How each DynamoDB request ended, and the access log written from it.

The server fills one :class:`RequestOutcome` per request as it learns about it (operation,
table, signer) and hands it, once the request has ended in any way (answered, refused from its
headers, failed), to exactly one function, ``alternator.server.request_ended``: the access log
below, and any other per-request consumer, are fed from there.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

access_log = logging.getLogger("alternator.access")

# Longest table name taken from a request (an ARN may name the table); longer is not recorded.
MAX_TABLE_NAME = 1024


def new_request_id() -> str:
    """32 random hex digits, as a uuid4's hex but without building a UUID (a few us less)."""
    return os.urandom(16).hex()


@dataclass(slots=True)
class RequestOutcome:
    request_id: str  # also the x-amzn-RequestId response header
    client: str  # the client's IP address
    started: float = field(default_factory=time.monotonic)
    operation: str | None = None  # a known operation's name, e.g. "GetItem"
    table: str | None = None  # the table the request names (TableName, or a lone RequestItems)
    user: str | None = None  # the role whose signature was verified
    request_bytes: int = 0  # the body as received (before Content-Encoding is undone)
    status: int = 0
    error: str | None = None  # the DynamoDB error code, e.g. "ResourceNotFoundException"
    response_bytes: int = 0  # the body as sent (compressed, if it was)
    latency: float = 0.0  # seconds from the first header read to the answer

    def name_table(self, request: dict[str, Any]) -> None:
        name = request.get("TableName")
        if name is None:
            items = request.get("RequestItems")
            if isinstance(items, dict) and len(items) == 1:
                name = next(iter(items))
        if isinstance(name, str) and len(name) <= MAX_TABLE_NAME:
            self.table = name


def write_access_log(outcome: RequestOutcome) -> None:
    """One JSON line (docs/http.md lists the fields)."""
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": outcome.request_id,
        "operation": outcome.operation,
        "table": outcome.table,
        "status": outcome.status,
        "error": outcome.error,
        "latency_ms": round(outcome.latency * 1000, 3),
        "user": outcome.user,
        "client": outcome.client,
        "request_bytes": outcome.request_bytes,
        "response_bytes": outcome.response_bytes,
    }
    access_log.info("%s", orjson.dumps(line).decode())
