"""Roles of the embedded backend: what `alternator role ...` manages.

On Cassandra and ScyllaDB roles are CQL's own (CREATE ROLE, GRANT); the embedded backend keeps
the same shapes in its SQLite file. A role's secret access key is its ``salted_hash``, a bcrypt
``$2a$`` hash of its password, exactly as Cassandra stores it.
"""

from __future__ import annotations

import secrets

import bcrypt

from alternator.storage import ALL_KEYSPACES, Role, table_resource
from alternator.storage.codec import cql_names
from alternator.storage.sqlite import SQLiteStorage

DEFAULT_ROLE = "alternator"
PERMISSIONS = ("ALTER", "AUTHORIZE", "CREATE", "DESCRIBE", "DROP", "EXECUTE", "MODIFY", "SELECT")


def salted_hash(password: str, rounds: int = 10) -> str:
    """A Cassandra-compatible bcrypt hash (``$2a$``, as jBCrypt writes it)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds, prefix=b"2a")).decode()


def resource_of(table: str | None, keyspace: str | None) -> str:
    if table is not None:
        return table_resource(*cql_names(table))
    if keyspace is not None:
        return f"data/{keyspace}"
    return ALL_KEYSPACES


class RoleAdmin:
    """Synchronous role management on one SQLite database file."""

    def __init__(self, path: str) -> None:
        self.storage = SQLiteStorage(path)
        self.storage.connect()

    def close(self) -> None:
        self.storage.db.close()

    def create(self, name: str, password: str | None, superuser: bool = False,
               login: bool = True, rounds: int = 10) -> Role:
        role = Role(name, salted_hash(password or secrets.token_urlsafe(24), rounds), login,
                    superuser, frozenset())
        self.storage.put_role(role)
        return role

    def get(self, name: str) -> Role | None:
        return self.storage._get_role(name)

    def drop(self, name: str) -> bool:
        return self.storage.drop_role(name)

    def grant_role(self, role: str, to: str) -> None:
        member = self.get(to)
        if member is None:
            raise KeyError(to)
        self.storage.put_role(Role(member.name, member.salted_hash, member.can_login,
                                   member.is_superuser, member.member_of | {role}))

    def change(self, name: str, permission: str, resource: str, grant: bool) -> None:
        wanted = frozenset(PERMISSIONS) if permission == "ALL" else frozenset({permission})
        self.storage.change_permissions(name, wanted, resource, grant)

    def permissions(self, name: str) -> dict[str, frozenset[str]]:
        return self.storage._role_permissions(name)

    def list(self) -> list[Role]:
        return self.storage.list_roles()

    def ensure_default(self) -> tuple[Role, bool]:
        """The superuser a fresh embedded database starts with, created on first use; and
        whether this call created it."""
        role = self.get(DEFAULT_ROLE)
        if role is None and not self.list():
            return self.create(DEFAULT_ROLE, None, superuser=True), True
        return (role if role is not None else self.list()[0]), False
