"""CORS as a browser meets it (alternator/http/cors.py): preflights on any path without a
signature, and the CORS headers on every answer to a request carrying ``Origin``.

What DynamoDB answers is pinned by ScyllaDB's test/alternator/test_cors.py, written against it:
``Access-Control-Allow-Origin: *``, its list of exposed headers, and on a preflight the requested
method and headers echoed, with a ``Max-Age``. Without ``Origin``, no CORS header at all.
"""

from __future__ import annotations

import http.client

import pytest

from alternator.http.cors import EXPOSE_HEADERS

from conftest import Endpoint, signed_headers
from rawhttp import connect, head, read_response

CONTENT_TYPE = "application/x-amz-json-1.0"
ORIGIN = "https://app.example.com"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                "Access-Control-Expose-Headers", "Access-Control-Max-Age",
                "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")
# What a browser asks before a DynamoDB call from a script (the JavaScript SDK's headers).
ASKED_HEADERS = "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent"


def request(endpoint: Endpoint, method: str, path: str, headers: dict[str, str],
            body: bytes = b"") -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = endpoint.url.split("://")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/", "/localnodes", "/any/path?x=1"])
def test_preflight(endpoint: Endpoint, path: str) -> None:
    status, headers, body = request(endpoint, "OPTIONS", path, {
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": ASKED_HEADERS})
    assert status == 200 and body == b""
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "POST"
    assert headers["Access-Control-Allow-Headers"] == ASKED_HEADERS
    assert headers["Access-Control-Max-Age"] == "7200"
    assert headers["Access-Control-Expose-Headers"] == EXPOSE_HEADERS
    assert "Access-Control-Allow-Credentials" not in headers
    assert headers["x-amzn-RequestId"]


def test_preflight_echoes_what_is_asked(endpoint: Endpoint) -> None:
    asked = {"Origin": ORIGIN, "Access-Control-Request-Method": "dog",
             "Access-Control-Request-Headers": "cat, meerkat, mouse"}
    _, headers, _ = request(endpoint, "OPTIONS", "/", asked)
    assert headers["Access-Control-Allow-Methods"] == "dog"
    assert headers["Access-Control-Allow-Headers"] == "cat, meerkat, mouse"
    # Other methods ignore the preflight's questions.
    for method in ("GET", "POST"):
        _, headers, _ = request(endpoint, method, "/", asked)
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Access-Control-Expose-Headers"] == EXPOSE_HEADERS
        for name in ("Access-Control-Max-Age", "Access-Control-Allow-Methods",
                     "Access-Control-Allow-Headers"):
            assert name not in headers, (method, name)


@pytest.mark.parametrize("method", ["OPTIONS", "GET", "POST"])
def test_no_cors_headers_without_origin(endpoint: Endpoint, method: str) -> None:
    _, headers, _ = request(endpoint, method, "/", {"Access-Control-Request-Method": "POST"})
    for name in CORS_HEADERS:
        assert name not in headers, name


def test_signed_call_from_a_page(endpoint: Endpoint) -> None:
    body = b"{}"
    headers = signed_headers(endpoint, body, {"Content-Type": CONTENT_TYPE,
                                              "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    status, answer, _ = request(endpoint, "POST", "/", {**headers, "Origin": ORIGIN}, body)
    assert status == 200
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert answer["Access-Control-Expose-Headers"] == EXPOSE_HEADERS
    assert "x-amzn-RequestId" in answer["Access-Control-Expose-Headers"].split(",")
    assert "Access-Control-Max-Age" not in answer


def test_errors_carry_cors_headers(endpoint: Endpoint) -> None:
    """A refused call must be readable by the page too, to show the error."""
    status, answer, _ = request(endpoint, "POST", "/", {
        "Content-Type": CONTENT_TYPE, "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Origin": ORIGIN}, b"{}")
    assert status == 400
    assert answer["Access-Control-Allow-Origin"] == "*"
    status, answer, _ = request(endpoint, "GET", "/no/such/path", {"Origin": ORIGIN})
    assert status == 404
    assert answer["Access-Control-Allow-Origin"] == "*"


def test_preflight_with_unsendable_values(endpoint: Endpoint) -> None:
    """Bytes that could not be sent back as they came are not echoed (and never a 500)."""
    with connect(endpoint.url) as sock:
        sock.sendall(head([(b"Host", b"x"), (b"Origin", ORIGIN.encode()),
                           (b"Access-Control-Request-Method", b"P\xffST"),
                           (b"Access-Control-Request-Headers", b"x-amz-date,x-\xe9t\xe9")],
                          method=b"OPTIONS"))
        status, headers, _ = read_response(sock)
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-methods" not in headers
    assert "access-control-allow-headers" not in headers
