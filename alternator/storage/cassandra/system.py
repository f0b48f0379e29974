"""The Cassandra backend's system tables (``.scylla.alternator.KS.T``), topology and the
registry of servers (``alternator.servers``, docs/cluster.md).

Rows are read and written as CQL values; attribute values are converted to the columns' types
(:func:`to_cql`).
"""

from __future__ import annotations

import base64
import datetime
import math
import uuid
from decimal import Decimal
from typing import Any

from alternator.errors import DynamoDBError, ResourceNotFoundException, ValidationException
from alternator.storage import ServerEntry, SystemRows
from alternator.storage.cassandra.session import META_KEYSPACE, CassandraBase, quote
from alternator.values import AttributeValue, Item

# Where the topology names none (a node without a rack).
DEFAULT_DATACENTER = "datacenter1"
DEFAULT_RACK = "rack1"


class CassandraSystem(CassandraBase):
    async def _opened(self) -> None:
        await super()._opened()
        await self.run_blocking(
            self._session.execute,
            f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.servers (datacenter text, "
            "address text, port int, https_port int, rack text, "
            "PRIMARY KEY ((datacenter), address, port, https_port))")

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

    async def placement(self, address: str) -> tuple[str, str]:
        hosts = list(self._cluster.metadata.all_hosts())
        for host in hosts:
            addresses = {str(a) for a in (host.address, host.broadcast_address,
                                          host.broadcast_rpc_address, host.listen_address)
                         if a is not None}
            if address in addresses and host.datacenter:
                return host.datacenter, host.rack or DEFAULT_RACK
        datacenter = self._config.local_datacenter or self._local_datacenter() \
            or DEFAULT_DATACENTER
        control = self._control_host()
        if control is not None and control.datacenter == datacenter and control.rack:
            return datacenter, control.rack
        racks = sorted(h.rack for h in hosts if h.datacenter == datacenter and h.rack)
        return datacenter, racks[0] if racks else DEFAULT_RACK

    async def _registry_statement(self, name: str) -> Any:
        cql = {
            "announce": f"INSERT INTO {META_KEYSPACE}.servers (datacenter, address, port, "
                        "https_port, rack) VALUES (?, ?, ?, ?, ?) USING TTL ?",
            "withdraw": f"DELETE FROM {META_KEYSPACE}.servers WHERE datacenter = ? "
                        "AND address = ? AND port = ? AND https_port = ?",
            "servers": f"SELECT rack, address, port, https_port FROM {META_KEYSPACE}.servers "
                       "WHERE datacenter = ?",
        }[name]
        statement = await self.prepared("registry." + name, cql)
        # Soft state, renewed every second or so: one replica is enough, and the registry
        # stays readable and writable where a quorum is not (docs/storage.md).
        statement.consistency_level = self._cl.LOCAL_ONE
        return statement

    async def announce(self, server: ServerEntry, seconds: float) -> None:
        await self.execute(await self._registry_statement("announce"),
                           (server.datacenter, server.address, server.port, server.https_port,
                            server.rack, max(1, math.ceil(seconds))))

    async def withdraw(self, server: ServerEntry) -> None:
        await self.execute(await self._registry_statement("withdraw"),
                           (server.datacenter, server.address, server.port, server.https_port))

    async def servers(self, datacenter: str) -> list[ServerEntry]:
        # One partition of at most a few hundred rows: the first page holds them all.
        result = await self.execute(await self._registry_statement("servers"), (datacenter,))
        return [ServerEntry(datacenter, rack or DEFAULT_RACK, address, port, https_port)
                for rack, address, port, https_port in result.current_rows]

    def _control_host(self) -> Any:
        connection = self._cluster.control_connection
        return self._cluster.metadata.get_host(connection._connection.endpoint) \
            if connection._connection else None

    def _local_datacenter(self) -> str | None:
        host = self._control_host()
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
