"""Accept-Encoding negotiation and the compressed bytes (alternator/http/compression.py).

The expectations are DynamoDB's, as ScyllaDB's test/alternator/test_compressed_response.py
established them against it (test_accept_encoding_header there).
"""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from alternator.http.compression import compress, compressed_slices, negotiate

CASES = [
    ("identity", None),
    ("", None),
    ("br", None),
    ("zstd", None),
    ("compress", None),
    ("x-gzip", None),
    ("gzip", "gzip"),
    ("deflate", "deflate"),
    ("gzip, deflate", "gzip"),
    ("br, identity, deflate, gzip", "deflate"),
    ("GZIP, identity", "gzip"),
    ("dog, gzip ,, cat", "gzip"),
    ("gzip;q=0.8, deflate;q=0.5", "gzip"),
    ("br, gzip;q=0, deflate; q = 0.5 , identity;q=0", "deflate"),
    ("*", "gzip"),
    ("*, deflate;q=0.5", "gzip"),
    ("*, deflate", "deflate"),
    ("*, identity", "gzip"),
    ("*, gzip;q=0.5", "deflate"),
    ("gzip ;q=0", None),
    ("identity;q=0", None),
    ("*;q=0", None),
    ("*;q=0.5,identity", "gzip"),
    ("gzip;q=0.5,identity;q=0.8", "gzip"),
    ("br;q=0.8,identity;q=0.5,*;q=0", None),
    ('"gzip"', None),
    ("gzip br", None),
    ("gzip:q=1", None),
    ("deflate;q=0.5, gzip;q=31", "gzip"),
    ("gzip;q=31,deflate;q=51", "gzip"),
    ("deflate;q=0.5, gzip;q=0.2", "deflate"),
    ("deflate;q=0.5, gzip;q=1;q=0.2", "gzip"),
    ("deflate;q=0.5,gzip;q=0.", "deflate"),
    ("deflate;q=0.5,gzip;q=0.x", "gzip"),
    ("deflate;q=0.5,gzip;q=0. x", "gzip"),
    ("deflate;q=-0.5,gzip;q=0.2", "gzip"),
    ("gzip;q= 0;q=1", None),
    ("gzip;q =0;q=1", "gzip"),
    ("gzip; q=0;q=1", None),
    ("gzip;nq=0;q=1", None),
    ("gzip;q=0, gzip;q=1, gzip;q=0", "gzip"),
    ("br,identity;q=0.5,gzip;q=0.0001", "gzip"),
    # Several Accept-Encoding headers, as the server joins them.
    ("identity,gzip", "gzip"),
    ("*, gzip;q=0, deflate;q=0", None),
]


@pytest.mark.parametrize(("header", "expected"), CASES)
def test_negotiate(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_bytes_inflate(coding: str) -> None:
    body = b'{"Items": [' + b'{"p": {"S": "x"}},' * 5000 + b"]}"
    whole = compress(body, coding, 6)
    inflate = gzip.decompress if coding == "gzip" else zlib.decompress
    assert inflate(whole) == body
    assert len(whole) < len(body) // 10


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_slices_are_one_stream(coding: str) -> None:
    body = os.urandom(300_000).hex().encode()
    pieces = list(compressed_slices(body, coding, 1, size=10_000))
    assert len(pieces) > 5 and all(pieces)
    inflate = gzip.decompress if coding == "gzip" else zlib.decompress
    assert inflate(b"".join(pieces)) == body
