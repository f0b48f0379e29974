"""Roles and grants for tests, made the way users make them: CQL on Cassandra, `alternator role`
(here its library) on the embedded backend."""

from __future__ import annotations

import time
import uuid
from typing import Any

from conftest import CREDENTIALS_VALIDITY, Endpoint, cassandra_address


class Roles:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.created: list[str] = []
        self._session: Any = None
        self._cluster: Any = None
        if endpoint.backend == "cassandra":
            from cassandra.auth import PlainTextAuthProvider
            from cassandra.cluster import Cluster

            address = cassandra_address()
            assert address is not None
            self._cluster = Cluster([address[0]], port=address[1],
                                    auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
            self._session = self._cluster.connect()

    def _admin(self) -> Any:
        from alternator.roles import RoleAdmin

        assert self.endpoint.sqlite_path is not None
        return RoleAdmin(self.endpoint.sqlite_path)

    def create(self, login: bool = True, superuser: bool = False) -> tuple[str, str]:
        """A new role; returns (access key, secret access key)."""
        name = "r" + uuid.uuid4().hex[:10]
        self.created.append(name)
        if self._session is not None:
            self._session.execute(
                f"CREATE ROLE {name} WITH PASSWORD = 'pw' AND LOGIN = {str(login).lower()} "
                f"AND SUPERUSER = {str(superuser).lower()}")
            row = self._session.execute(
                "SELECT salted_hash FROM system_auth.roles WHERE role = %s", (name,)).one()
            return name, str(row.salted_hash)
        admin = self._admin()
        try:
            role = admin.create(name, "pw", superuser=superuser, login=login, rounds=4)
        finally:
            admin.close()
        return name, str(role.salted_hash)

    def grant(self, permission: str, role: str, table: str | None = None) -> None:
        if self._session is not None:
            target = f"alternator_{table}.{table}" if table else "ALL KEYSPACES"
            self._session.execute(f"GRANT {permission} ON {target} TO {role}")
        else:
            from alternator.roles import resource_of

            admin = self._admin()
            try:
                admin.change(role, permission, resource_of(table, None), True)
            finally:
                admin.close()
        self.settle()

    def grant_role(self, granted: str, to: str) -> None:
        if self._session is not None:
            self._session.execute(f"GRANT {granted} TO {to}")
        else:
            admin = self._admin()
            try:
                admin.grant_role(granted, to)
            finally:
                admin.close()
        self.settle()

    def set_password(self, role: str) -> str:
        """Change a role's password; returns its new secret."""
        if self._session is not None:
            # Cassandra refuses a password change within 5 s of the previous one (or of the
            # role's creation).
            time.sleep(5.1)
            self._session.execute(f"ALTER ROLE {role} WITH PASSWORD = 'changed'")
            row = self._session.execute(
                "SELECT salted_hash FROM system_auth.roles WHERE role = %s", (role,)).one()
            return str(row.salted_hash)
        admin = self._admin()
        try:
            new = admin.create(role, "changed", rounds=4)
        finally:
            admin.close()
        return str(new.salted_hash)

    @staticmethod
    def settle() -> None:
        time.sleep(CREDENTIALS_VALIDITY + 0.1)

    def close(self) -> None:
        for name in self.created:
            if self._session is not None:
                self._session.execute(f"DROP ROLE IF EXISTS {name}")
            else:
                admin = self._admin()
                try:
                    admin.drop(name)
                finally:
                    admin.close()
        if self._cluster is not None:
            self._cluster.shutdown()
