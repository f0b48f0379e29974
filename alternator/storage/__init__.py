"""The storage contract every backend implements.

Operations see only this protocol. A backend stores tables described by
:class:`~alternator.schema.TableSchema` and items in DynamoDB-JSON shape; it knows nothing of
expressions, write isolation or HTTP.

Conditional writes use an opaque per-item *version*: :meth:`Storage.read_versioned` returns the
item with its version, and :meth:`Storage.write_if` replaces (or deletes) the item only if its
version is still the one read. That is enough for the read-modify-write loop in
``operations/rmw.py`` to give isolated updates on every backend: the Cassandra backend does it
with an LWT ``IF`` clause, the SQLite backend inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from alternator.schema import TableSchema
from alternator.values import AttributeValue, Item

# An item's version is an opaque string; an absent item's version is None.
Version = str | None


@dataclass(frozen=True, slots=True)
class SortCondition:
    """A range of sort-key values: ``op`` applied to ``values`` (already validated)."""

    op: Literal["=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"]
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True, slots=True)
class Role:
    """A CQL role, as authentication and authorization see it."""

    name: str
    salted_hash: str | None
    can_login: bool
    is_superuser: bool
    member_of: frozenset[str]


# CQL resource names: every keyspace, one keyspace, one table.
ALL_KEYSPACES = "data"


def table_resource(keyspace: str, table: str) -> str:
    return f"data/{keyspace}/{table}"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a Query or Scan: the items and, when more may follow, the last key read."""

    items: list[Item]
    last_key: Item | None


@dataclass(frozen=True, slots=True)
class SystemRows:
    """A page of a backend system table: rows as CQL values, and where to continue."""

    rows: list[dict[str, Any]]
    paging_state: bytes | None
    partition_key: tuple[str, ...]


class Storage(Protocol):
    # True when every single write is already isolated (SQLite): read-modify-write then needs
    # the versioned write but never a distributed transaction.
    always_isolated: bool

    # --- tables ---------------------------------------------------------------------------------
    async def create_table(self, schema: TableSchema) -> None:
        """Create the table; raise ResourceInUseException if the name is taken."""

    async def delete_table(self, name: str) -> TableSchema:
        """Drop the table and its items; raise ResourceNotFoundException if absent."""

    async def get_table(self, name: str) -> TableSchema | None: ...

    async def list_tables(self) -> list[str]:
        """All table names, sorted."""

    async def update_table(self, schema: TableSchema) -> None:
        """Persist changed metadata (tags, settings) of an existing table."""

    # --- items ----------------------------------------------------------------------------------
    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None: ...

    async def put_item(self, table: TableSchema, item: Item) -> None:
        """Unconditionally replace the item whose key ``item`` carries."""

    async def delete_item(self, table: TableSchema, key: Item) -> None: ...

    async def write_batch(self, table: TableSchema, items: list[Item], keys: list[Item]) -> None:
        """Unconditionally put ``items`` and delete the items of ``keys`` (BatchWriteItem).

        Not atomic as a whole, as BatchWriteItem is not; each single write is.
        """

    async def merge_item(
        self, table: TableSchema, key: Item, set_attributes: Item, remove: tuple[str, ...]
    ) -> None:
        """Set and remove top-level attributes without reading; create the item if absent."""

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        """Read the item and its version; ``serial``: linearizably (Paxos) where that differs."""

    async def write_if(
        self, table: TableSchema, key: Item, expected: Version, item: Item | None
    ) -> bool:
        """Store ``item`` (or delete, if None) only if the version is still ``expected``."""

    # --- reads of many items ----------------------------------------------------------------------
    async def query(
        self,
        table: TableSchema,
        partition: AttributeValue,
        sort: SortCondition | None,
        forward: bool,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page: ...

    async def scan(
        self,
        table: TableSchema,
        segment: int,
        total_segments: int,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page: ...

    # --- roles and permissions (CQL's, or the embedded backend's own) ----------------------------
    async def get_role(self, name: str) -> Role | None: ...

    async def role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        """The permissions granted directly to a role: CQL resource name -> permission names."""

    async def grant(self, role: str, permissions: frozenset[str], resource: str) -> None: ...

    def table_resource(self, table: TableSchema) -> str:
        """The CQL resource a table's permissions are granted on."""

    # --- system tables ---------------------------------------------------------------------------
    async def read_system_table(
        self, keyspace: str, table: str, where: Item, limit: int, paging_state: bytes | None,
    ) -> SystemRows:
        """Rows of a backend system table (``where``: partition-key column -> value, converted
        to the column's CQL type).

        Raises ResourceNotFoundException for a table the backend does not have.
        """

    async def write_system_table(
        self, keyspace: str, table: str, key: Item, row: Item | None
    ) -> None:
        """Insert ``row`` into a system table, or delete the row at ``key`` (row None).

        Attribute values are converted to the columns' CQL types.
        """

    def segment_of(self, table: TableSchema, key: Item, total_segments: int) -> int:
        """Which parallel-scan segment an item's key falls in."""

    # --- cluster --------------------------------------------------------------------------------
    async def local_nodes(self, datacenter: str | None, rack: str | None) -> list[str] | None:
        """Addresses of live nodes in ``datacenter`` (default: the local one) and ``rack``.

        None means the backend is this one process: the server answers with its own address.
        """

    async def close(self) -> None: ...
