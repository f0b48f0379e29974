"""Authorization with CQL permissions, as Scylla's Alternator applies them.

Reads need SELECT on the table, writes MODIFY, CreateTable CREATE on all keyspaces, DeleteTable
DROP, UpdateTable and tag changes ALTER. A permission granted on the table, on its keyspace or
on all keyspaces counts; superusers may do everything.
"""

from __future__ import annotations

from alternator.auth.credentials import Principal
from alternator.errors import AccessDeniedException
from alternator.storage import ALL_KEYSPACES

SELECT = "SELECT"
MODIFY = "MODIFY"
CREATE = "CREATE"
DROP = "DROP"
ALTER = "ALTER"
# What the creator of a table is granted on it, as CQL grants a table's creator.
CREATOR_PERMISSIONS = frozenset({"ALTER", "DROP", "SELECT", "MODIFY", "AUTHORIZE"})


def _enclosing(resource: str) -> list[str]:
    parts = resource.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]


def permitted(principal: Principal, permission: str, resource: str) -> bool:
    if principal.is_superuser:
        return True
    return any(permission in principal.permissions.get(r, ()) for r in _enclosing(resource))


def describe_resource(resource: str) -> str:
    parts = resource.split("/")
    if len(parts) == 3:
        return f"table {parts[1]}.{parts[2]}"
    if len(parts) == 2:
        return f"keyspace {parts[1]}"
    return "ALL KEYSPACES"


def denied(principal: Principal, permission: str, resource: str) -> AccessDeniedException:
    return AccessDeniedException(
        f"{permission} access on {describe_resource(resource)} is denied to role "
        f"{principal.name}"
    )


def check(principal: Principal, permission: str, resource: str = ALL_KEYSPACES) -> None:
    if not permitted(principal, permission, resource):
        raise denied(principal, permission, resource)
