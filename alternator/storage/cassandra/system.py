"""The Cassandra backend's system tables (``.scylla.alternator.KS.T``) and topology.

Rows are read and written as CQL values; attribute values are converted to the columns' types
(:func:`to_cql`).
"""

from __future__ import annotations

import base64
import datetime
import uuid
from decimal import Decimal
from typing import Any

from alternator.errors import DynamoDBError, ResourceNotFoundException, ValidationException
from alternator.storage import SystemRows
from alternator.storage.cassandra.session import CassandraBase, quote
from alternator.values import AttributeValue, Item


class CassandraSystem(CassandraBase):
    async def read_system_table(
        self, keyspace: str, table: str, where: Item, limit: int, cursor: bytes | None,
    ) -> SystemRows:
        columns_of = await self._columns_of(keyspace, table)
        types = {name: cql_type for name, _, _, cql_type in columns_of}
        partition_key = tuple(name for _, name in sorted(
            (position, name) for name, kind, position, _ in columns_of if kind == "partition_key"))
        unknown = [c for c in where if c not in partition_key]
        if unknown or (where and len(where) != len(partition_key)):
            raise ValidationException(
                "Query of a system table needs an equality condition on each partition key "
                f"column: {', '.join(partition_key)}"
            )
        shape = ("system", keyspace, table, tuple(where))
        statement = self._meta.get(str(shape))
        if statement is None:
            clause = " AND ".join(f"{quote(c)} = ?" for c in where)
            statement = await self.run_blocking(
                self._session.prepare,
                f"SELECT * FROM {quote(keyspace)}.{quote(table)}"
                + (f" WHERE {clause}" if clause else ""),
            )
            self._meta[str(shape)] = statement
        bound = statement.bind([to_cql(types[c], v) for c, v in where.items()])
        bound.fetch_size = limit
        bound.consistency_level = self._cl.ONE  # system keyspaces: see write_system_table
        result = await self.execute(bound, paging_state=cursor)
        columns = result.column_names
        rows = [dict(zip(columns, r, strict=True)) for r in result.current_rows]
        return SystemRows(rows, result.paging_state if result.has_more_pages else None,
                          partition_key)

    async def write_system_table(
        self, keyspace: str, table: str, key: Item, row: Item | None
    ) -> None:
        columns = {name: (kind, cql_type)
                   for name, kind, _, cql_type in await self._columns_of(keyspace, table)}
        primary = [c for c, (kind, _) in columns.items() if kind in ("partition_key", "clustering")]
        given = row if row is not None else key
        unknown = sorted(set(given) - set(columns))
        missing = [c for c in primary if c not in given]
        if unknown or missing or (row is None and set(key) != set(primary)):
            raise ValidationException(
                f"The item does not match the columns of {keyspace}.{table}: primary key "
                f"{', '.join(primary)}" + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        values = {c: to_cql(columns[c][1], v) for c, v in given.items()}
        target = f"{quote(keyspace)}.{quote(table)}"
        if row is not None:
            names = list(values)
            cql = (f"INSERT INTO {target} ({', '.join(map(quote, names))}) "
                   f"VALUES ({', '.join('?' for _ in names)})")
        else:
            names = primary
            cql = f"DELETE FROM {target} WHERE {' AND '.join(f'{quote(c)} = ?' for c in names)}"
        prepared = await self.run_blocking(self._session.prepare, cql)
        bound = prepared.bind([values[c] for c in names])
        # System keyspaces have their own replication (system_traces: 2, system_distributed:
        # 3), often more than a small cluster's nodes: one replica's acknowledgement suffices.
        bound.consistency_level = self._cl.ONE
        await self.execute(bound)

    async def _columns_of(self, keyspace: str, table: str) -> list[tuple[str, str, int, str]]:
        """(name, kind, position, CQL type) of every column of a table, virtual ones too."""
        statement = self._meta.get("columns")
        if statement is None:
            statement = await self.run_blocking(
                self._session.prepare,
                "SELECT column_name, kind, position, type FROM system_schema.columns "
                "WHERE keyspace_name = ? AND table_name = ?",
            )
            self._meta["columns"] = statement
        rows = (await self.execute(statement, (keyspace, table))).current_rows
        if not rows:
            rows = await self._virtual_columns(keyspace, table)
        if not rows:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {keyspace}.{table} not found")
        return [tuple(r) for r in rows]

    async def _virtual_columns(self, keyspace: str, table: str) -> list[Any]:
        statement = self._meta.get("virtual_columns")
        if statement is None:
            try:
                statement = await self.run_blocking(
                    self._session.prepare,
                    "SELECT column_name, kind, position, type FROM system_virtual_schema.columns "
                    "WHERE keyspace_name = ? AND table_name = ?",
                )
            except DynamoDBError:
                return []  # ScyllaDB has no system_virtual_schema
            self._meta["virtual_columns"] = statement
        return list((await self.execute(statement, (keyspace, table))).current_rows)

    async def local_nodes(self, datacenter: str | None, rack: str | None) -> list[str] | None:
        metadata = self._cluster.metadata
        if datacenter is None:
            datacenter = self._config.local_datacenter or self._local_datacenter()
        out = []
        for host in metadata.all_hosts():
            if not host.is_up or host.datacenter != datacenter:
                continue
            if rack is not None and host.rack != rack:
                continue
            out.append(str(host.broadcast_rpc_address or host.address))
        return sorted(out)

    def _local_datacenter(self) -> str | None:
        connection = self._cluster.control_connection
        host = self._cluster.metadata.get_host(connection._connection.endpoint) \
            if connection._connection else None
        return host.datacenter if host is not None else None


def to_cql(cql_type: str, value: AttributeValue) -> Any:
    """An attribute value as the Python value the driver writes to a column of ``cql_type``."""
    cql_type = cql_type.strip()
    if cql_type.startswith("frozen<"):
        cql_type = cql_type[len("frozen<"):-1]
    (kind, inner), = value.items()
    if kind == "NULL":
        return None
    for prefix in ("set<", "list<"):
        if cql_type.startswith(prefix):
            element = cql_type[len(prefix):-1]
            members = inner if kind in ("L",) else [{kind[0]: m} for m in inner]
            converted = [to_cql(element, m) for m in members]
            return set(converted) if prefix == "set<" else converted
    if cql_type.startswith("map<") and kind == "M":
        key_type, _, value_type = cql_type[len("map<"):-1].partition(",")
        return {to_cql(key_type, {"S": k}): to_cql(value_type, v) for k, v in inner.items()}
    try:
        match cql_type:
            case "int" | "bigint" | "smallint" | "tinyint" | "varint" | "counter":
                return int(Decimal(inner))
            case "float" | "double":
                return float(inner)
            case "decimal":
                return Decimal(inner)
            case "boolean":
                return bool(inner) if kind == "BOOL" else inner == "true"
            case "blob":
                return base64.b64decode(inner) if kind == "B" else str(inner).encode()
            case "uuid" | "timeuuid":
                return uuid.UUID(str(inner))
            case "timestamp":
                return datetime.datetime.fromisoformat(str(inner))
            case "date":
                return datetime.date.fromisoformat(str(inner))
    except (ValueError, ArithmeticError):
        raise ValidationException(f"Value {inner!r} does not fit a column of type {cql_type}") \
            from None
    if kind in ("S", "N"):
        return str(inner)  # text, ascii, varchar, inet, time...
    raise ValidationException(f"A {kind} value does not fit a column of type {cql_type}")
