"""Authentication of one request: SigV4 signature against the signing role's secret.

In two steps, so that nothing of a body is read for a request that cannot be signed by anyone:
:func:`identify` needs only the headers (the Authorization header parses, the date is current,
the access key names a role that may log in); :func:`verify` then checks the signature over the
body that was read.
"""

from __future__ import annotations

from datetime import datetime

from alternator.auth import sigv4
from alternator.auth.credentials import Principal, RoleCache
from alternator.errors import UnrecognizedClientException


async def identify(roles: RoleCache, headers: sigv4.Headers,
                   now: datetime) -> tuple[sigv4.SignedRequest, Principal]:
    """The request's parsed signature and the role it names; DynamoDB's error if none."""
    parsed = sigv4.parse_authorization(headers, now)
    if not _is_utf8(parsed.access_key):  # no role has a name that is not text
        raise UnrecognizedClientException(sigv4.MSG_UNRECOGNIZED_CLIENT)
    principal = await roles.principal(parsed.access_key)
    if principal is None:
        raise UnrecognizedClientException(sigv4.MSG_UNRECOGNIZED_CLIENT)
    return parsed, principal


def verify(parsed: sigv4.SignedRequest, principal: Principal, method: str, path: str,
           query: str, headers: sigv4.Headers, body: bytes | bytearray,
           now: datetime) -> Principal:
    sigv4.verify(parsed, principal.secret, method, path, query, headers, body, now)
    return principal


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
