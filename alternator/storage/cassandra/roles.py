"""The Cassandra backend's roles and permissions: CQL's own, read from its auth tables.

Scylla 6+ keeps roles in system.roles; Cassandra and older Scylla in system_auth.roles.
"""

from __future__ import annotations

from typing import Any

from alternator.errors import InternalServerError
from alternator.schema import TableSchema
from alternator.storage import Role, table_resource
from alternator.storage.cassandra.session import CassandraBase, quote


class CassandraRoles(CassandraBase):
    async def _auth_statement(self, name: str, columns: str, where: str) -> Any:
        statement = self._meta.get(name)
        if statement is None:
            statement = await self.run_blocking(self._prepare_auth, columns, name, where)
            self._meta[name] = statement
        return statement

    def _prepare_auth(self, columns: str, table: str, where: str) -> Any:
        from cassandra import InvalidRequest

        for keyspace in ("system", "system_auth"):
            try:
                return self._session.prepare(f"SELECT {columns} FROM {keyspace}.{table} {where}")
            except InvalidRequest:
                continue
        raise InternalServerError(f"no {table} table in system or system_auth")

    async def get_role(self, name: str) -> Role | None:
        statement = await self._auth_statement(
            "roles", "role, salted_hash, can_login, is_superuser, member_of", "WHERE role = ?")
        rows = (await self.execute(statement, (name,))).current_rows
        if not rows:
            return None
        role, salted_hash, can_login, is_superuser, member_of = rows[0]
        return Role(role, salted_hash, bool(can_login), bool(is_superuser),
                    frozenset(member_of or ()))

    async def role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        statement = await self._auth_statement(
            "role_permissions", "resource, permissions", "WHERE role = ?")
        rows = (await self.execute(statement, (name,))).current_rows
        return {resource: frozenset(p.upper() for p in (perms or ())) for resource, perms in rows}

    async def grant(self, role: str, permissions: frozenset[str], resource: str) -> None:
        parts = resource.split("/")
        target = "ALL KEYSPACES"
        if len(parts) == 2:
            target = f"KEYSPACE {quote(parts[1])}"
        elif len(parts) == 3:
            target = f"{quote(parts[1])}.{quote(parts[2])}"
        for permission in sorted(permissions):
            await self.run_blocking(self._session.execute,
                                     f"GRANT {permission} ON {target} TO {quote(role)}")

    def table_resource(self, table: TableSchema) -> str:
        return table_resource(table.placement[0], table.placement[1])
