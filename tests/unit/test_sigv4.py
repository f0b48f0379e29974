"""AWS Signature Version 4 verification (alternator.auth.sigv4).

Requests are signed by botocore itself, by hand from the AWS specification, and compared with
vectors from AWS's SigV4 test suite.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from alternator.auth import sigv4
from alternator.auth.sigv4 import (
    MSG_MISSING_AUTHENTICATION_TOKEN,
    MSG_SIGNATURE_MISMATCH,
    MSG_UNRECOGNIZED_CLIENT,
    SignedRequest,
    parse_authorization,
    verify,
)
from alternator.errors import (
    DynamoDBError,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)

ACCESS_KEY = "alternator"
SECRET = "secret_pass"
BCRYPT_SECRET = "$2a$04$abcdefghijklmnopqrstuu5Xo6Fhs2wQ0N9c9gG9sA4O7mJ4s1lyi"
SIGNED_AT = datetime(2024, 1, 1, 0, 30, 0, tzinfo=UTC)
AMZ_DATE = "20240101T003000Z"
BODY = b'{"TableName": "t", "Key": {"p": {"S": "x"}}}'
ENDPOINT = "http://localhost:8000"

Pairs = list[tuple[str, str]]


class Req:
    """A request as the server receives it."""

    def __init__(self, method: str, path: str, query: str, headers: Pairs, body: bytes) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())

    def replace_header(self, name: str, value: str) -> None:
        self.headers = [(k, value if k.lower() == name.lower() else v) for k, v in self.headers]

    def drop_header(self, name: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]

    def check(self, secret: str = SECRET, now: datetime = SIGNED_AT, **kw: Any) -> SignedRequest:
        parsed = parse_authorization(self.headers, now, **kw)
        verify(parsed, secret, self.method, self.path, self.query, self.headers, self.body, now)
        return parsed


def botocore_sign(
    *,
    body: bytes = BODY,
    secret: str = SECRET,
    url: str = ENDPOINT + "/",
    service: str = "dynamodb",
    region: str = "us-east-1",
    extra: Sequence[tuple[str, str]] = (),
    at: datetime = SIGNED_AT,
) -> Req:
    """A DynamoDB PutItem signed by botocore at ``at``."""
    request = AWSRequest(method="POST", url=url, data=body)
    request.headers["Content-Type"] = "application/x-amz-json-1.0"
    request.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
    for name, value in extra:
        request.headers[name] = value  # email.message semantics: repeated names accumulate
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        SigV4Auth(Credentials(ACCESS_KEY, secret), service, region).add_auth(request)
    split = urlsplit(url)
    headers: Pairs = [("Host", split.netloc)]
    headers += [(k, v) for k, v in request.headers.items()]
    return Req("POST", split.path, split.query, headers, body)


def expect(exc: type[DynamoDBError], message: str, req: Req, **kw: Any) -> None:
    with pytest.raises(exc) as info:
        req.check(**kw)
    assert type(info.value) is exc
    assert info.value.message == message


# --- valid requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({}, id="plain"),
        pytest.param({"url": ENDPOINT + "/?b=2&a=1&a=0&z"}, id="query-string"),
        pytest.param({"url": ENDPOINT + "/?k=a%20b&j=%2F~%C5%BC"}, id="query-encoded"),
        pytest.param({"url": ENDPOINT + "/a%20b//./c/../d/"}, id="path-normalised"),
        pytest.param({"url": "http://dynamodb.local/"}, id="host-no-port"),
        pytest.param({"extra": [("X-Spaces", "  a   b \t c  ")]}, id="header-space-runs"),
        pytest.param({"extra": [("X-Multi", "one"), ("X-Multi", " two  2 ")]}, id="repeated"),
        pytest.param({"extra": [("Date", "x")]}, id="http-date-header"),
        pytest.param({"secret": BCRYPT_SECRET}, id="bcrypt-secret"),
        pytest.param({"region": "eu-west-3"}, id="other-region"),
        pytest.param({"body": b""}, id="empty-body"),
        pytest.param({"body": "{\"S\": \"żółw ✓\"}".encode()}, id="utf8-body"),
        pytest.param(
            {"extra": [("X-Amz-Content-SHA256", hashlib.sha256(BODY).hexdigest())]},
            id="content-sha256",
        ),
    ],
)
def test_botocore_signed_request_verifies(kw: dict[str, Any]) -> None:
    req = botocore_sign(**kw)
    parsed = req.check(secret=kw.get("secret", SECRET))
    assert parsed.access_key == ACCESS_KEY
    assert parsed.date == "20240101"
    assert parsed.region == kw.get("region", "us-east-1")
    assert parsed.service == "dynamodb"
    assert parsed.amz_date == AMZ_DATE
    assert "host" in parsed.signed_headers
    date_header = "date" if kw.get("extra") == [("Date", "x")] else "x-amz-date"
    assert date_header in parsed.signed_headers


def test_unsigned_headers_added_later_are_ignored() -> None:
    req = botocore_sign()
    req.headers += [("User-Agent", "curl/8"), ("X-Forwarded-For", "10.0.0.1"), ("Accept", "*/*")]
    req.check()


def test_comma_separated_authorization_without_spaces() -> None:
    # ScyllaDB issue #9568: components separated by commas only.
    req = botocore_sign()
    first, *rest = req.header("Authorization").split()
    req.replace_header("Authorization", first + " " + "".join(rest))
    req.check()


def test_header_containers() -> None:
    multidict = pytest.importorskip("multidict")
    repeated = botocore_sign(extra=[("X-Multi", "one"), ("X-Multi", "two")])
    for headers in (multidict.CIMultiDict(repeated.headers), dict(botocore_sign().headers)):
        parsed = parse_authorization(headers, SIGNED_AT)
        verify(parsed, SECRET, "POST", "/", "", headers, BODY, SIGNED_AT)


def test_naive_now_is_utc() -> None:
    botocore_sign().check(now=SIGNED_AT.replace(tzinfo=None))


@pytest.mark.parametrize("offset", [timedelta(minutes=15), -timedelta(minutes=15)])
def test_exactly_fifteen_minutes_is_accepted(offset: timedelta) -> None:
    botocore_sign().check(now=SIGNED_AT + offset)
    botocore_sign().check(now=SIGNED_AT + offset + timedelta(microseconds=999_999))


# --- requests that must fail --------------------------------------------------------------------


def test_wrong_secret() -> None:
    expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, botocore_sign(), secret="wrong")


def test_tampered_body() -> None:
    req = botocore_sign()
    req.body = BODY.replace(b'"x"', b'"y"')
    expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req)


@pytest.mark.parametrize("claimed", [hashlib.sha256(BODY).hexdigest(), "UNSIGNED-PAYLOAD"])
def test_content_sha256_header_does_not_vouch_for_body(claimed: str) -> None:
    req = botocore_sign(extra=[("X-Amz-Content-SHA256", claimed)])
    req.body = BODY + b" "
    expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Amz-Target", "DynamoDB_20120810.DeleteItem"),
        ("Host", "evil.example.com"),
        ("Content-Type", "application/json"),
        ("X-Amz-Date", "20240101T003001Z"),
    ],
)
def test_tampered_signed_header(name: str, value: str) -> None:
    req = botocore_sign()
    req.replace_header(name, value)
    expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req)


def test_tampered_method_path_query() -> None:
    for attr, value in (("method", "PUT"), ("path", "/x"), ("query", "a=1")):
        req = botocore_sign()
        setattr(req, attr, value)
        expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req)


def test_duplicate_signed_header_injected() -> None:
    req = botocore_sign()
    req.headers.append(("X-Amz-Target", "DynamoDB_20120810.DeleteItem"))
    expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req)


def test_tampered_signature() -> None:
    req = botocore_sign()
    auth = req.header("Authorization")
    sig = auth.rsplit("=", 1)[1]
    for bad in ("0" * 64, sig.upper(), sig[:-1], "é" * 64):
        req.replace_header("Authorization", auth.replace(sig, bad))
        expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req)


@pytest.mark.parametrize("auth", [None, "Bearer abc", "AWS AKID:sig", "  "])
def test_missing_authentication_token(auth: str | None) -> None:
    req = botocore_sign()
    if auth is None:
        req.drop_header("Authorization")
    else:
        req.replace_header("Authorization", auth)
    expect(MissingAuthenticationTokenException, MSG_MISSING_AUTHENTICATION_TOKEN, req)
    assert MSG_MISSING_AUTHENTICATION_TOKEN == "Request is missing Authentication Token"


def test_host_must_be_signed() -> None:
    req = botocore_sign()
    req.replace_header("Authorization", req.header("Authorization").replace("host;", ""))
    expect(
        InvalidSignatureException,
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        req,
    )


def test_date_must_be_signed() -> None:
    req = botocore_sign()
    req.replace_header("Authorization", req.header("Authorization").replace(";x-amz-date", ""))
    expect(
        InvalidSignatureException,
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        req,
    )


def test_signature_expired() -> None:
    now = SIGNED_AT + timedelta(minutes=16)
    message = (
        "Signature expired: 20240101T003000Z is now earlier than 20240101T003100Z "
        "(20240101T004600Z - 15 min.)"
    )
    expect(InvalidSignatureException, message, botocore_sign(), now=now)
    # verify() checks the clock even if parse_authorization was not given it.
    req = botocore_sign()
    parsed = parse_authorization(req.headers)
    with pytest.raises(InvalidSignatureException, match=r"^Signature expired: "):
        verify(parsed, SECRET, req.method, req.path, req.query, req.headers, req.body, now)


def test_signature_not_yet_current() -> None:
    now = SIGNED_AT - timedelta(minutes=16)
    message = (
        "Signature not yet current: 20240101T003000Z is still later than 20240101T002900Z "
        "(20240101T001400Z + 15 min.)"
    )
    expect(InvalidSignatureException, message, botocore_sign(), now=now)
    req = botocore_sign()
    parsed = parse_authorization(req.headers)
    with pytest.raises(InvalidSignatureException, match=r"^Signature not yet current: "):
        verify(parsed, SECRET, req.method, req.path, req.query, req.headers, req.body, now)


def test_expiry_is_reported_before_a_bad_scope() -> None:
    # ScyllaDB's test_expired_signature, which also runs against DynamoDB.
    headers = [
        ("X-Amz-Date", "20170101T010101Z"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=alternator/2/3/4/aws4_request "
                          "SignedHeaders=x-amz-date;host Signature=123"),
    ]
    with pytest.raises(InvalidSignatureException, match=r"^Signature expired: 20170101T010101Z "):
        parse_authorization(headers, SIGNED_AT)


def test_wrong_service_scope() -> None:
    expect(
        InvalidSignatureException,
        "Credential should be scoped to correct service: 'dynamodb'.",
        botocore_sign(service="s3"),
    )


def test_configurable_service() -> None:
    botocore_sign(service="s3").check(service="s3")


def _auth_headers(auth: str, date: str | None = AMZ_DATE) -> Pairs:
    headers = [("Host", "localhost:8000"), ("Authorization", auth)]
    if date is not None:
        headers.append(("X-Amz-Date", date))
    return headers


SCOPE = "alternator/20240101/us-east-1/dynamodb/aws4_request"
GOOD = f"Credential={SCOPE}, SignedHeaders=host;x-amz-date, Signature=abcd"


@pytest.mark.parametrize(
    ("auth", "date", "exc", "message"),
    [
        (
            "AWS4-HMAC-SHA256",
            AMZ_DATE,
            IncompleteSignatureException,
            "Authorization header requires 'Credential' parameter. "
            "Authorization header requires 'Signature' parameter. "
            "Authorization header requires 'SignedHeaders' parameter. "
            "Authorization=AWS4-HMAC-SHA256",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date",
            AMZ_DATE,
            IncompleteSignatureException,
            "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 "
            f"Credential={SCOPE}, SignedHeaders=host;x-amz-date",
        ),
        (
            f"AWS4-HMAC-SHA256 {GOOD}",
            None,
            IncompleteSignatureException,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
            f"header. Authorization=AWS4-HMAC-SHA256 {GOOD}",
        ),
        (
            "AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders",
            AMZ_DATE,
            IncompleteSignatureException,
            "'Credential' not a valid key=value pair (missing equal-sign) in Authorization "
            "header: 'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'.",
        ),
        (
            f"AWS4-HMAC-SHA256 {GOOD}",
            "2024-01-01T00:30:00Z",
            IncompleteSignatureException,
            "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:30:00Z'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        ),
        (
            f"AWS4-HMAC-SHA256 {GOOD}",
            "20241301T003000Z",
            IncompleteSignatureException,
            "Date must be in ISO-8601 'basic format'. Got '20241301T003000Z'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        ),
        (
            f"AWS4-HMAC-SHA512 {GOOD}",
            AMZ_DATE,
            IncompleteSignatureException,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host;x-amz-date, Signature=ab",
            AMZ_DATE,
            IncompleteSignatureException,
            "Credential must have exactly 5 slash-delimited elements, "
            "e.g. keyid/date/region/service/term, got 'a/b/c/d'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=a/b//d/e, SignedHeaders=host;x-amz-date, Signature=ab",
            AMZ_DATE,
            InvalidSignatureException,
            "Credential should be scoped to a valid region, not ''. "
            "Credential should be scoped to correct service: 'dynamodb'. "
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. "
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            "from HTTP: 'b' != '20240101', from '20240101T003000Z'.",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=alternator/20231231/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=ab",
            AMZ_DATE,
            InvalidSignatureException,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            "from HTTP: '20231231' != '20240101', from '20240101T003000Z'.",
        ),
    ],
    ids=["empty", "no-signature", "no-date", "no-equals", "extended-date", "bad-month",
         "algorithm", "short-credential", "bad-scope", "scope-date"],
)
def test_malformed_authorization(
    auth: str, date: str | None, exc: type[DynamoDBError], message: str
) -> None:
    with pytest.raises(exc) as info:
        parse_authorization(_auth_headers(auth, date), SIGNED_AT)
    assert type(info.value) is exc
    assert info.value.message == message


def test_unrecognized_client_message() -> None:
    assert MSG_UNRECOGNIZED_CLIENT == "The security token included in the request is invalid."


def test_error_bodies_are_coral_errors() -> None:
    with pytest.raises(MissingAuthenticationTokenException) as info:
        parse_authorization([])
    assert info.value.body() == {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "Message": "Request is missing Authentication Token",
    }


# --- from the specification -----------------------------------------------------------------------


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def test_hand_built_request() -> None:
    secret, body = BCRYPT_SECRET, b'{"TableName":"t"}'
    headers = [
        ("Host", "localhost:8000"),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Date", AMZ_DATE),
        ("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),
        ("X-Custom", "  a    b  "),
        ("X-Custom", "c"),
    ]
    canonical_request = "\n".join([
        "POST",
        "/",
        "a=1&b=%20",
        "content-type:application/x-amz-json-1.0",
        "host:localhost:8000",
        f"x-amz-date:{AMZ_DATE}",
        "x-amz-target:DynamoDB_20120810.DescribeTable",
        "x-custom:a b,c",
        "",
        "content-type;host;x-amz-date;x-amz-target;x-custom",
        hashlib.sha256(body).hexdigest(),
    ])
    scope = "20240101/local/dynamodb/aws4_request"
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", AMZ_DATE, scope,
        hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), "20240101"), "local"),
                      "dynamodb"), "aws4_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers.append((
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential=AKID/{scope}, "
        f"SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-custom, Signature={signature}",
    ))
    req = Req("POST", "/", "b=%20&a=1", headers, body)
    req.check(secret=secret)
    expect(InvalidSignatureException, MSG_SIGNATURE_MISMATCH, req, secret=SECRET)


# AWS SigV4 test suite (aws-sig-v4-test-suite): AKIDEXAMPLE, 20150830T123600Z, us-east-1, "service".
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_NOW = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "query", "signature"),
    [
        ("GET", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("POST", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        ("GET", "Param2=value2&Param1=value1",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ],
    ids=["get-vanilla", "post-vanilla", "get-vanilla-query-order-key-case"],
)
def test_aws_test_suite(method: str, query: str, signature: str) -> None:
    headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", "AWS4-HMAC-SHA256 "
         "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         f"SignedHeaders=host;x-amz-date, Signature={signature}"),
    ]
    req = Req(method, "/", query, headers, b"")
    parsed = req.check(secret=SUITE_SECRET, now=SUITE_NOW, service="service")
    assert parsed.access_key == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException):
        parse_authorization(headers, SUITE_NOW)  # the default service is dynamodb


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("", "/"),
        ("/", "/"),
        ("//example//", "/example/"),
        ("/./", "/"),
        ("/example/..", "/"),
        ("/example1/example2/../..", "/"),
        ("/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
         "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
        ("/a%20b/ሴ", "/a%2520b/%E1%88%B4"),
    ],
)
def test_canonical_path(path: str, canonical: str) -> None:
    assert sigv4.canonical_path(path) == canonical


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", ""),
        ("Param1", "Param1="),
        ("b=2&a=1&a=0", "a=0&a=1&b=2"),
        ("k=a b&k2=%7e%2f", "k=a%20b&k2=~%2F"),
        ("x=1&&y=2", "x=1&y=2"),
    ],
)
def test_canonical_query(query: str, canonical: str) -> None:
    assert sigv4.canonical_query(query) == canonical


def test_signing_key_is_cached() -> None:
    sigv4._keyed_hmac.cache_clear()
    req = botocore_sign()
    req.check()
    req.check()
    info = sigv4._keyed_hmac.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_signing_key_matches_aws_documentation() -> None:
    # "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
    key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                            "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
