"""CORS: the headers that let a browser script call the server, as DynamoDB sends them.

A request with an ``Origin`` is answered with ``Access-Control-Allow-Origin: *`` (requests are
authorized by their signature, never by cookies, so every origin may call) and the list of
response headers a script may read, DynamoDB's own. A preflight (``OPTIONS``, on any path, with
no signature) also echoes the method and headers the browser asks for, and may be cached for two
hours (Chrome's maximum). Without ``Origin`` no CORS header is sent. ScyllaDB's
test/alternator/test_cors.py, written against DynamoDB, pins this; so does tests/test_cors.py.

``x-amz-crc32`` is deliberately not exposed, as DynamoDB does not expose it: a browser inflates a
compressed response before a script sees it, so an SDK checking the header against the body it
is given (the JavaScript SDK v2 does) would find a mismatch.
"""

from __future__ import annotations

from collections.abc import Mapping

EXPOSE_HEADERS = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
MAX_AGE = "7200"


def cors_headers(request_headers: Mapping[str, str], preflight: bool) -> dict[str, str]:
    """The CORS headers of the answer to a request with an ``Origin`` header."""
    out = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSE_HEADERS}
    if preflight:
        for asked, allowed in (("Access-Control-Request-Method", "Access-Control-Allow-Methods"),
                               ("Access-Control-Request-Headers",
                                "Access-Control-Allow-Headers")):
            value = request_headers.get(asked, "")
            # Echoed only when it can be sent back as it came (tests/test_cors.py).
            if value and value.isascii() and value.isprintable():
                out[allowed] = value
        out["Access-Control-Max-Age"] = MAX_AGE
    return out
