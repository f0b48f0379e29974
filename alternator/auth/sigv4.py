"""AWS Signature Version 4 verification for DynamoDB requests.

Pure: no I/O, no asyncio, and the clock is passed in. Verification is split in two so the caller
can look the secret up (asynchronously, cached) between the steps::

    parsed = parse_authorization(headers, now)      # everything that needs no secret
    secret = await lookup(parsed.access_key)        # unknown key: UnrecognizedClientException
    verify(parsed, secret, method, path, query, headers, body, now)

``parse_authorization`` performs the checks in the order DynamoDB does (as recorded against the
real service by dynalite): missing token, incomplete header, date format and skew, signed
``host``, algorithm, credential shape, credential scope. The unknown-key check comes next and is
the caller's; the signature itself is checked last by ``verify``.

``headers`` is either a mapping (a ``dict``, or a multidict whose ``items()`` yields repeated
headers once per value) or an iterable of ``(name, value)`` pairs; names are matched without
regard to case. ``path`` is the raw, still percent-encoded request path without the query
string; ``query`` is the raw query string without the ``?``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, unquote

from multidict import CIMultiDict, CIMultiDictProxy

from alternator.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)

if TYPE_CHECKING:
    from _hashlib import HASH

__all__ = [
    "ALGORITHM",
    "DEFAULT_SERVICE",
    "MAX_CLOCK_SKEW",
    "MSG_MISSING_AUTHENTICATION_TOKEN",
    "MSG_SIGNATURE_MISMATCH",
    "MSG_UNRECOGNIZED_CLIENT",
    "Headers",
    "SignedRequest",
    "canonical_path",
    "canonical_query",
    "check_clock_skew",
    "parse_authorization",
    "signing_key",
    "verify",
]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

ALGORITHM = "AWS4-HMAC-SHA256"
DEFAULT_SERVICE = "dynamodb"
TERMINATOR = "aws4_request"
MAX_CLOCK_SKEW = timedelta(minutes=15)

# DynamoDB's wording, as recorded against the real service (dynalite's index.js, ScyllaDB's
# alternator tests, and the error texts AWS services print for the same conditions).
MSG_MISSING_AUTHENTICATION_TOKEN = "Request is missing Authentication Token"
MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
#: For the caller to raise as UnrecognizedClientException when the access key is unknown.
MSG_UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
MSG_HOST_NOT_SIGNED = "'Host' must be a 'SignedHeader' in the AWS Authorization."

# aiohttp's header types (multidict comes with aiohttp): case-insensitive lookups in C instead of
# scanning every header.
_CI_MULTIDICTS = (CIMultiDict, CIMultiDictProxy)
_ISO_BASIC = "%Y%m%dT%H%M%SZ"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_sha256 = hashlib.sha256
_hmac_digest = hmac.digest
_compare_digest = hmac.compare_digest


class SignedRequest(NamedTuple):
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 ...`` header, validated."""

    access_key: str
    date: str  # YYYYMMDD, from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]  # lower-case, in the order the client listed them
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ, as used in the string to sign
    timestamp: datetime  # amz_date, parsed (aware, UTC)
    scope: str  # date/region/service/aws4_request
    signed_headers_line: str  # ";".join(signed_headers)


# --- step 1: the Authorization header -----------------------------------------------------------


def parse_authorization(
    headers: Headers, now: datetime | None = None, *, service: str = DEFAULT_SERVICE
) -> SignedRequest:
    """Parse and validate the Authorization header without the secret key.

    When ``now`` is given the request date is also checked against the clock here, at the point
    DynamoDB checks it (before the credential scope and the access key); ``verify`` checks it
    again either way.
    """
    auth: str | None
    x_amz_date: str | None
    http_date: str | None
    if isinstance(headers, _CI_MULTIDICTS):  # aiohttp's request.headers: lookups in C
        auth = headers.get("authorization")
        x_amz_date = headers.get("x-amz-date")
        http_date = headers.get("date")
    else:
        auth = x_amz_date = http_date = None
        for name, value in _items(headers):
            lname = name.lower()
            if lname == "authorization":
                if auth is None:
                    auth = value
            elif lname == "x-amz-date":
                if x_amz_date is None:
                    x_amz_date = value
            elif lname == "date" and http_date is None:
                http_date = value

    if auth is None:
        raise MissingAuthenticationTokenException(MSG_MISSING_AUTHENTICATION_TOKEN)
    auth = auth.strip()
    if not auth.startswith("AWS4-"):
        raise MissingAuthenticationTokenException(MSG_MISSING_AUTHENTICATION_TOKEN)

    # Components may be separated by commas, whitespace or both.
    tokens = auth.replace(",", " ").split()
    algorithm = tokens[0]
    params: dict[str, str] = {}
    for token in tokens[1:]:
        key, eq, value = token.partition("=")
        if not eq:
            raise IncompleteSignatureException(
                f"'{token}' not a valid key=value pair (missing equal-sign) in "
                f"Authorization header: '{auth}'."
            )
        params[key] = value

    credential = params.get("Credential")
    signature = params.get("Signature")
    signed = params.get("SignedHeaders")
    no_date = x_amz_date is None and http_date is None
    if not credential or not signature or signed is None or no_date:
        missing = ""
        if not credential:
            missing += "Authorization header requires 'Credential' parameter. "
        if not signature:
            missing += "Authorization header requires 'Signature' parameter. "
        if signed is None:
            missing += "Authorization header requires 'SignedHeaders' parameter. "
        if no_date:
            missing += (
                "Authorization header requires existence of either a 'X-Amz-Date' or a "
                "'Date' header. "
            )
        raise IncompleteSignatureException(missing + "Authorization=" + auth)

    if x_amz_date is not None:
        raw_date = x_amz_date.strip()
        timestamp = _parse_iso_basic(raw_date)
        amz_date = raw_date
        date_header, date_header_display = "x-amz-date", "X-Amz-Date"
    else:
        assert http_date is not None
        raw_date = http_date.strip()
        timestamp = _parse_iso_basic(raw_date)
        amz_date = raw_date
        if timestamp is None:
            timestamp = _parse_http_date(raw_date)
            if timestamp is not None:
                amz_date = timestamp.strftime(_ISO_BASIC)
        date_header, date_header_display = "date", "Date"
    if timestamp is None:
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{raw_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        )
    if now is not None:
        _check_skew(amz_date, timestamp, now)

    signed_line = signed.lower()
    signed_headers = tuple(signed_line.split(";"))
    if "host" not in signed_headers:
        raise InvalidSignatureException(MSG_HOST_NOT_SIGNED)
    if date_header not in signed_headers:
        raise InvalidSignatureException(
            f"'{date_header_display}' must be a 'SignedHeader' in the AWS Authorization."
        )

    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
        )

    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    access_key, scope_date, region, scope_service, terminator = parts
    if not region or scope_service != service or terminator != TERMINATOR or (
        scope_date != amz_date[:8]
    ):
        problems = []
        if not region:
            problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
        if scope_service != service:
            problems.append(f"Credential should be scoped to correct service: '{service}'.")
        if terminator != TERMINATOR:
            problems.append(
                "Credential should be scoped with a valid terminator: "
                f"'{TERMINATOR}', not '{terminator}'."
            )
        if scope_date != amz_date[:8]:
            problems.append(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        raise InvalidSignatureException(" ".join(problems))

    return SignedRequest(
        access_key=access_key,
        date=scope_date,
        region=region,
        service=scope_service,
        signed_headers=signed_headers,
        signature=signature,
        amz_date=amz_date,
        timestamp=timestamp,
        scope=f"{scope_date}/{region}/{scope_service}/{TERMINATOR}",
        signed_headers_line=signed_line,
    )


def check_clock_skew(amz_date: str, timestamp: datetime, now: datetime) -> None:
    """Raise InvalidSignatureException if ``timestamp`` is more than 15 minutes from ``now``."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    now = now.replace(microsecond=0)
    if timestamp < now - MAX_CLOCK_SKEW:
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_CLOCK_SKEW).strftime(_ISO_BASIC)} ({now.strftime(_ISO_BASIC)} - 15 min.)"
        )
    if timestamp > now + MAX_CLOCK_SKEW:
        raise InvalidSignatureException(
            f"Signature not yet current: {amz_date} is still later than "
            f"{(now + MAX_CLOCK_SKEW).strftime(_ISO_BASIC)} ({now.strftime(_ISO_BASIC)} + 15 min.)"
        )


# --- step 2: the signature -----------------------------------------------------------------------


def verify(
    parsed: SignedRequest,
    secret: str,
    method: str,
    path: str,
    query: str,
    headers: Headers,
    body: bytes | bytearray | memoryview,
    now: datetime,
) -> None:
    """Recompute the request's signature with ``secret``; raise InvalidSignatureException if it
    differs or the request date is more than 15 minutes from ``now``.

    The payload hash is always computed from ``body``: a client that sent X-Amz-Content-SHA256
    signed that value, so any body it does not describe (or UNSIGNED-PAYLOAD) fails to verify.
    """
    _check_skew(parsed.amz_date, parsed.timestamp, now)
    canonical = (
        f"{method.upper()}\n{canonical_path(path)}\n{canonical_query(query)}\n"
        f"{_canonical_headers(parsed.signed_headers, headers)}\n"
        f"{parsed.signed_headers_line}\n"
        f"{_sha256(body).hexdigest() if body else _EMPTY_SHA256}"
    )
    string_to_sign = (
        f"{ALGORITHM}\n{parsed.amz_date}\n{parsed.scope}\n"
        f"{_sha256(canonical.encode('utf-8', 'surrogateescape')).hexdigest()}"
    )
    inner, outer = _keyed_hmac(secret, parsed.date, parsed.region, parsed.service)
    mac = inner.copy()
    mac.update(string_to_sign.encode("utf-8", "surrogateescape"))
    final = outer.copy()
    final.update(mac.digest())
    expected = final.hexdigest()
    provided = parsed.signature
    if not provided.isascii() or not _compare_digest(expected, provided):
        raise InvalidSignatureException(MSG_SIGNATURE_MISMATCH)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request"."""
    # A header's bytes that are not UTF-8 reach here as surrogate escapes: signed as sent.
    key = _hmac_digest(("AWS4" + secret).encode("utf-8", "surrogateescape"),
                       date.encode("utf-8", "surrogateescape"), "sha256")
    key = _hmac_digest(key, region.encode("utf-8", "surrogateescape"), "sha256")
    key = _hmac_digest(key, service.encode("utf-8", "surrogateescape"), "sha256")
    return _hmac_digest(key, b"aws4_request", "sha256")


@lru_cache(maxsize=256)
def _keyed_hmac(secret: str, date: str, region: str, service: str) -> tuple[HASH, HASH]:
    """The signing key as HMAC-SHA256's two pre-keyed SHA-256 states (RFC 2104), cached.

    Copying these and hashing only the message halves the cost of an HMAC compared with
    hmac.new/hmac.digest, which re-key (and, with OpenSSL 3, re-fetch the digest) every call.
    Only ever copied, never updated, so sharing them between threads is safe.
    """
    key = signing_key(secret, date, region, service)  # 32 bytes: shorter than a block
    block = key.ljust(64, b"\0")
    return (_sha256(bytes(b ^ 0x36 for b in block)), _sha256(bytes(b ^ 0x5C for b in block)))


def _check_skew(amz_date: str, timestamp: datetime, now: datetime) -> None:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    # Clearly inside the window: done. Near or past its edges, check_clock_skew decides (it
    # ignores the sub-second part of ``now``, which matters only there).
    if not -MAX_CLOCK_SKEW < timestamp - now < _SKEW_MINUS_ONE_SECOND:
        check_clock_skew(amz_date, timestamp, now)


_SKEW_MINUS_ONE_SECOND = MAX_CLOCK_SKEW - timedelta(seconds=1)


# --- canonical request pieces ------------------------------------------------------------------


def canonical_path(path: str) -> str:
    """The path as AWS canonicalises it for every service but S3: dot segments and repeated
    slashes removed, then URI-encoded (the client's percent-encoding is encoded once more)."""
    if path == "/" or not path:
        return "/"
    return quote(_remove_dot_segments(path), safe="/~", errors="surrogateescape")


def canonical_query(query: str) -> str:
    """Parameters RFC 3986-encoded, sorted by name and then value."""
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_rfc3986(name), _rfc3986(value)))
    pairs.sort()
    return "&".join([f"{name}={value}" for name, value in pairs])


def _rfc3986(component: str) -> str:
    decoded = unquote(component, errors="surrogateescape")
    return quote(decoded, safe="-_.~", errors="surrogateescape")


def _canonical_headers(signed_headers: tuple[str, ...], headers: Headers) -> str:
    """``name:value\n`` per signed header: values trimmed, inner whitespace runs folded to one
    space, repeated headers joined with commas (in the order received)."""
    values: dict[str, list[str]]
    if isinstance(headers, _CI_MULTIDICTS):
        getall = headers.getall
        values = {name: getall(name, []) for name in signed_headers}
    else:
        values = {name: [] for name in signed_headers}
        for name, value in _items(headers):
            found = values.get(name.lower())
            if found is not None:
                found.append(value)
    out = []
    for name in signed_headers:
        found = values[name]
        if len(found) == 1:
            out.append(f"{name}:{' '.join(found[0].split())}\n")
        else:
            out.append(f"{name}:{','.join([' '.join(v.split()) for v in found])}\n")
    return "".join(out)


def _items(headers: Headers) -> Iterable[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    lead = "/" if path[0] == "/" else ""
    trail = "/" if path[-1] == "/" and out else ""
    return lead + "/".join(out) + trail


@lru_cache(maxsize=64)  # requests signed in the same second share it
def _parse_iso_basic(value: str) -> datetime | None:
    """``YYYYMMDDTHHMMSSZ`` -> aware UTC datetime, or None. No regex, no strptime."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        return None
    digits = value[:8] + value[9:15]
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]),
            int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC,
        )
    except ValueError:
        return None


def _parse_http_date(value: str) -> datetime | None:
    """An RFC 7231 ``Date`` header value (e.g. ``Sun, 30 Aug 2015 12:36:00 GMT``)."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
