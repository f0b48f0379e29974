"""Authentication of one request: SigV4 signature against the signing role's secret."""

from __future__ import annotations

from datetime import datetime

from alternator.auth import sigv4
from alternator.auth.credentials import Principal, RoleCache
from alternator.errors import UnrecognizedClientException


async def authenticate(
    roles: RoleCache,
    method: str,
    path: str,
    query: str,
    headers: sigv4.Headers,
    body: bytes,
    now: datetime,
) -> Principal:
    """The role that signed the request; DynamoDB's error if the signature does not hold."""
    parsed = sigv4.parse_authorization(headers, now)
    principal = await roles.principal(parsed.access_key)
    if principal is None:
        raise UnrecognizedClientException(sigv4.MSG_UNRECOGNIZED_CLIENT)
    sigv4.verify(parsed, principal.secret, method, path, query, headers, body, now)
    return principal
