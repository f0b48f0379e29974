"""The embedded backend's roles and permissions: CQL-shaped, managed with `alternator role`."""

from __future__ import annotations

import orjson

from alternator.schema import TableSchema
from alternator.storage import Role, table_resource
from alternator.storage.codec import cql_names
from alternator.storage.sqlite.base import SQLiteBase


class SQLiteRoles(SQLiteBase):
    async def get_role(self, name: str) -> Role | None:
        return await self._run(self._get_role, name)

    def _get_role(self, name: str) -> Role | None:
        row = self.db.execute(
            "SELECT role, salted_hash, can_login, is_superuser, member_of FROM roles "
            "WHERE role = ?", (name,)).fetchone()
        if row is None:
            return None
        return Role(row[0], row[1], bool(row[2]), bool(row[3]), frozenset(orjson.loads(row[4])))

    async def role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        return await self._run(self._role_permissions, name)

    def _role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        rows = self.db.execute(
            "SELECT resource, permissions FROM role_permissions WHERE role = ?", (name,))
        return {resource: frozenset(orjson.loads(perms)) for resource, perms in rows}

    async def grant(self, role: str, permissions: frozenset[str], resource: str) -> None:
        await self._run(self.change_permissions, role, permissions, resource, True)

    def change_permissions(self, role: str, permissions: frozenset[str], resource: str,
                           add: bool) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            current = self._role_permissions(role).get(resource, frozenset())
            updated = current | permissions if add else current - permissions
            if updated:
                db.execute("INSERT OR REPLACE INTO role_permissions VALUES (?, ?, ?)",
                           (role, resource, orjson.dumps(sorted(updated)).decode()))
            else:
                db.execute("DELETE FROM role_permissions WHERE role = ? AND resource = ?",
                           (role, resource))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def put_role(self, role: Role) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO roles VALUES (?, ?, ?, ?, ?)",
            (role.name, role.salted_hash, int(role.can_login), int(role.is_superuser),
             orjson.dumps(sorted(role.member_of)).decode()))

    def drop_role(self, name: str) -> bool:
        cur = self.db.execute("DELETE FROM roles WHERE role = ?", (name,))
        self.db.execute("DELETE FROM role_permissions WHERE role = ?", (name,))
        return cur.rowcount == 1

    def list_roles(self) -> list[Role]:
        names = [r[0] for r in self.db.execute("SELECT role FROM roles ORDER BY role")]
        return [r for r in map(self._get_role, names) if r is not None]

    def table_resource(self, table: TableSchema) -> str:
        return table_resource(*cql_names(table.name))

