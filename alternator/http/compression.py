"""Response compression: which encoding a request accepts, and the compressed bytes.

DynamoDB compresses a response with gzip or deflate when the request's ``Accept-Encoding``
allows it and the body is at least 4 KiB. How it reads that header (q-values, ``*``,
``identity``, malformed entries) was established against DynamoDB by ScyllaDB's
test/alternator/test_compressed_response.py, and :func:`negotiate` follows it
(tests/unit/test_http_compression.py pins each case). Several ``Accept-Encoding`` headers
are joined, as HTTP says (DynamoDB itself reads only the first).

``deflate`` is the zlib format (RFC 9110), as DynamoDB and ScyllaDB send it.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

GZIP = "gzip"
DEFLATE = "deflate"
_ANY = "*"
_PREFERENCE = (GZIP, DEFLATE)  # what "*" gives, in this order
_QUALITY = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")

# A compressed body of more than this many (uncompressed) bytes is streamed: sent chunked as it
# is compressed, in slices of STREAM_SLICE, instead of being compressed whole first.
STREAM_ABOVE = 256 * 1024
STREAM_SLICE = 64 * 1024


def negotiate(accept_encoding: str) -> str | None:
    """The coding to compress with (``gzip`` or ``deflate``), or None for none.

    Among the codings the header names with a quality above zero, the one of highest quality
    wins, the first named on a tie; ``*`` stands for a coding not named (gzip first), and an
    explicit coding of equal quality is preferred to it. ``identity`` and unknown codings are
    ignored. A coding named twice keeps its first non-zero quality.
    """
    quality: dict[str, float] = {}
    chosen: str | None = None
    best = 0.0
    for entry in accept_encoding.split(","):
        coding, *params = entry.split(";")
        coding = coding.strip().lower()
        if coding not in (GZIP, DEFLATE, _ANY):
            continue
        if quality.get(coding, 0.0) != 0.0:
            continue
        q = _quality(params)
        quality[coding] = q
        if q > best or (chosen == _ANY and q > 0.0 and q >= best):
            chosen, best = coding, q
    if chosen != _ANY:
        return chosen
    unnamed = [coding for coding in _PREFERENCE if coding not in quality]
    if unnamed:
        return unnamed[0]
    named = max(_PREFERENCE, key=lambda coding: quality[coding])
    return named if quality[named] > 0.0 else None


def _quality(params: list[str]) -> float:
    """The q-value of an entry's parameters: the first one holding ``q=`` with a number after
    it (clamped to 0..1); 1 without one. DynamoDB finds ``q=`` anywhere in a parameter
    (``nq=0`` counts) but not ``q =0``, and skips values that are not numbers (``0.x``)."""
    for param in params:
        at = param.lower().find("q=")
        if at < 0:
            continue
        value = param[at + 2:].strip()
        if not _QUALITY.fullmatch(value):
            continue
        return min(1.0, max(0.0, float(value)))
    return 1.0


def _compressor(coding: str, level: int) -> zlib._Compress:
    wbits = 16 + zlib.MAX_WBITS if coding == GZIP else zlib.MAX_WBITS
    return zlib.compressobj(level, zlib.DEFLATED, wbits)


def compress(body: bytes, coding: str, level: int) -> bytes:
    """The whole of ``body`` compressed."""
    compressor = _compressor(coding, level)
    return compressor.compress(body) + compressor.flush()


def compressed_slices(body: bytes, coding: str, level: int,
                      size: int = STREAM_SLICE) -> Iterator[bytes]:
    """``body`` compressed ``size`` input bytes at a time: the pieces of one compressed stream,
    none empty, so that no second copy of a large body is ever held."""
    compressor = _compressor(coding, level)
    view = memoryview(body)
    for start in range(0, len(view), size):
        piece = compressor.compress(view[start:start + size])
        if piece:
            yield piece
    yield compressor.flush()
