"""Every header byte handled: whatever a client puts in a header the server reads, the answer is
a 4xx in DynamoDB's JSON error shape, never a 5xx, and the log stays quiet."""

from __future__ import annotations

import json
import logging
import random
import socket
import time
from datetime import UTC, datetime

import pytest

from alternator.faults import RateLimitedLog, printable

from conftest import Endpoint, signed_headers
from rawhttp import LIST, connect, error_type, forged_auth, head, read_response

BAD = b"\xff\xfe\xc3("  # not UTF-8


def exchange(endpoint: Endpoint, headers: list[tuple[bytes, bytes]], body: bytes = b"{}",
             method: bytes = b"POST") -> tuple[int, bytes]:
    names = {name.lower() for name, _ in headers}
    base = [(b"Host", b"127.0.0.1")] if b"host" not in names else []
    if b"content-length" not in names and method == b"POST":
        base.append((b"Content-Length", str(len(body)).encode()))
    with connect(endpoint.url) as sock:
        sock.sendall(head(base + headers, method=method) + (body if method == b"POST" else b""))
        status, _, answer = read_response(sock)
    return status, answer


def signed_shape(access_key: str, when: datetime | None = None) -> dict[bytes, bytes]:
    return dict(forged_auth(access_key, when))


def dynamodb_error(status: int, answer: bytes) -> str:
    assert 400 <= status < 500, (status, answer)
    return error_type(answer)


def auth_with(endpoint: Endpoint, credential: bytes | None = None,
              token: bytes | None = None) -> list[tuple[bytes, bytes]]:
    date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ").encode()
    credential = credential or f"{endpoint.access_key}/{date[:8].decode()}/us-east-1/dynamodb/" \
                               "aws4_request".encode()
    value = b"AWS4-HMAC-SHA256 Credential=" + credential + \
        b", SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64
    if token is not None:
        value += b", " + token
    return [(b"X-Amz-Target", LIST.encode()), (b"X-Amz-Date", date), (b"Authorization", value)]


@pytest.mark.parametrize("case", ["access key", "region", "x-amz-date", "date", "token",
                                  "content-encoding", "target"])
def test_non_utf8_header_bytes_are_client_errors(endpoint: Endpoint, case: str) -> None:
    date = datetime.now(UTC).strftime("%Y%m%d").encode()
    headers = auth_with(endpoint)
    if case == "access key":
        headers = auth_with(endpoint, credential=b"al" + BAD + b"/" + date +
                            b"/us-east-1/dynamodb/aws4_request")
    elif case == "region":
        headers = auth_with(endpoint, credential=endpoint.access_key.encode() + b"/" + date +
                            b"/us-" + BAD + b"/dynamodb/aws4_request")
    elif case == "x-amz-date":
        headers = [(n, BAD if n == b"X-Amz-Date" else v) for n, v in headers]
    elif case == "date":
        headers = [(n, v) for n, v in headers if n != b"X-Amz-Date"] + [(b"Date", BAD)]
    elif case == "token":
        headers = auth_with(endpoint, token=b"Extra=" + BAD)
    elif case == "content-encoding":
        headers.append((b"Content-Encoding", BAD))
    else:
        headers = [(n, b"DynamoDB_20120810." + BAD if n == b"X-Amz-Target" else v)
                   for n, v in headers]
    status, answer = exchange(endpoint, headers)
    code = dynamodb_error(status, answer)
    assert code in ("UnrecognizedClientException", "InvalidSignatureException",
                    "IncompleteSignatureException", "SerializationException",
                    "UnknownOperationException"), code
    message = json.loads(answer)
    text = message.get("Message", message.get("message", ""))
    assert "\ufffd" not in text  # shown escaped, not mangled


# Every header the server reads, and the ones that frame the request.
FUZZED = [b"Authorization", b"X-Amz-Date", b"Date", b"X-Amz-Target", b"Content-Encoding",
          b"Content-Type", b"Host", b"User-Agent", b"X-Amz-Content-Sha256", b"Content-Length",
          b"Transfer-Encoding", b"Connection", b"Expect"]


def random_value(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    size = rng.choice([1, 2, 8, 40, 300])
    if kind == 0:  # any byte but the line break that would end the header
        return bytes(rng.choice([b for b in range(256) if b not in (10, 13)])
                     for _ in range(size))
    if kind == 1:  # high bytes only
        return bytes(rng.randrange(128, 256) for _ in range(size))
    if kind == 2:  # a plausible value with one byte changed
        good = b"AWS4-HMAC-SHA256 Credential=alternator/20250101/us-east-1/dynamodb/" \
               b"aws4_request, SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64
        i = rng.randrange(len(good))
        return good[:i] + bytes([rng.randrange(128, 256)]) + good[i + 1:]
    return rng.choice([b"", b" ", b"\t", b"%00", b"\x00", b"\x7f", b"-1", b"99999999999999999999",
                       b"gzip, gzip", b"chunked", b"=", b",,,", b"AWS4-", b"AWS4-HMAC-SHA256"])


@pytest.mark.parametrize("header", FUZZED, ids=lambda h: h.decode())
def test_header_fuzz_never_answers_5xx(endpoint: Endpoint, header: bytes) -> None:
    rng = random.Random(f"alternator-{header!r}")
    for _ in range(25):
        value = random_value(rng)
        headers = [(n, v) for n, v in auth_with(endpoint) if n.lower() != header.lower()]
        headers.append((header, value))
        try:
            status, answer = exchange(endpoint, headers)
        except ConnectionError:
            continue  # refused as unparseable HTTP and closed: not an answer, not a 5xx
        assert status < 500, (header, value, status, answer)
        if status >= 400:
            error_type(answer)  # DynamoDB's JSON error shape
    status, _ = exchange(endpoint, [(b"Host", BAD)], method=b"GET")
    assert status == 200


def test_expect_100_continue(endpoint: Endpoint) -> None:
    with connect(endpoint.url) as sock:
        sock.sendall(head([(b"Host", b"127.0.0.1"), (b"Expect", b"100-continue"),
                           (b"Content-Length", b"2"), *auth_with(endpoint)]))
        status, _, _ = read_response(sock)
        assert status == 100
        sock.sendall(b"{}")
        status, _, answer = read_response(sock)
    assert status == 400 and error_type(answer) == "InvalidSignatureException"


def test_expect_100_continue_unsigned_is_refused_before_the_body(endpoint: Endpoint) -> None:
    with connect(endpoint.url) as sock:
        sock.sendall(head([(b"Host", b"127.0.0.1"), (b"Expect", b"100-continue"),
                           (b"X-Amz-Target", LIST.encode()), (b"Content-Length", b"9000000")]))
        status, _, answer = read_response(sock)
    assert status == 400 and error_type(answer) == "MissingAuthenticationTokenException"


def test_disconnect_mid_body_is_not_an_error(endpoint: Endpoint,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        for _ in range(5):
            with connect(endpoint.url) as sock:
                sock.sendall(head([(b"Host", b"127.0.0.1"), (b"X-Amz-Target", LIST.encode()),
                                   (b"Content-Length", b"1000"),
                                   *forged_auth(endpoint.access_key)]) + b'{"Lim')
                time.sleep(0.1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00"
                                b"\x00\x00\x00\x00")  # close with a reset
        time.sleep(0.5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def test_bad_header_requests_do_not_flood_the_log(endpoint: Endpoint,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(200):
            exchange(endpoint, auth_with(endpoint, credential=b"x" + BAD + b"/2/3/4/5"))
    assert len(caplog.records) <= 20, [r.getMessage() for r in caplog.records[:5]]


def test_rate_limited_log_summarises_repeats(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RateLimitedLog(logging.getLogger("test.faults"), burst=3, interval=10,
                         clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="test.faults"):
        for _ in range(50):
            log.log(logging.INFO, "fault %s", printable("\udcff\n"))
        now[0] = 11.0
        log.log(logging.INFO, "fault after")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:3] == ["fault \\xff\\n"] * 3
    assert messages[3] == "47 more client faults like these in the last 11 s"
    assert messages[4] == "fault after"


def test_user_agent_bytes_do_not_break_system_clients(endpoint: Endpoint) -> None:
    """system.clients lists the request reading it, with its User-Agent (which SigV4 does not
    sign): bytes that are not UTF-8 there are shown escaped, not a 500."""
    body = b'{"TableName": ".scylla.alternator.system.clients"}'
    headers = signed_headers(endpoint, body, {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Scan",
        "Host": endpoint.url.removeprefix("http://")})
    raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"User-Agent", BAD)]
    status, answer = exchange(endpoint, raw, body)
    assert status == 200, answer
    agents = [i.get("driver_name", {}).get("S", "") for i in json.loads(answer)["Items"]]
    assert any(a.startswith("\\xff") for a in agents), agents
