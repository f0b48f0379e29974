"""The Cassandra backend's Query and Scan: one partition in clustering order, or token ranges.

A page is one CQL page of at most ``limit`` rows; a parallel Scan's segment is a range of
Murmur3 tokens (codec.segment_range), so ``segment_of`` maps a key to its segment exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alternator.schema import TableSchema
from alternator.storage import Page, SortCondition
from alternator.storage.cassandra.items import (
    CassandraItems,
    is_absent_lock,
    key_columns,
    qualified,
)
from alternator.storage.cassandra.tables import key_column
from alternator.storage.codec import key_to_cql, row_to_item, segment_of, segment_range
from alternator.values import AttributeValue, Item

_MIN_TOKEN = -(1 << 63)
_TOKEN_SPACE = 1 << 64


class CassandraScans(CassandraItems):
    async def query(
        self,
        table: TableSchema,
        partition: AttributeValue,
        sort: SortCondition | None,
        forward: bool,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page:
        pk_value = key_to_cql(table.partition_key, partition)
        if table.sort_key is None:
            if start_key is not None:
                return Page([], None)
            restrictions: list[tuple[str, Any]] = []
        else:
            restrictions = sort_restrictions(table, sort, start_key, forward)
        shape = ("query", forward, tuple(op for op, _ in restrictions))
        stmts = await self._prepared(table)
        statement = stmts.by_query.get(shape)
        if statement is None:
            where = [f"{key_column(table.partition_key.name)} = ?"]
            if table.sort_key is not None:
                ck = key_column(table.sort_key.name)
                where += [f"{ck} {op} ?" for op, _ in restrictions]
            order = ""
            if table.sort_key is not None:
                order = f" ORDER BY {key_column(table.sort_key.name)} {'ASC' if forward else 'DESC'}"
            statement = await self.prepare(
                f"SELECT {', '.join(key_columns(table))}, \":version\", \":attrs\" FROM "
                f"{qualified(table)} WHERE {' AND '.join(where)}{order} LIMIT ?",
            )
            stmts.by_query[shape] = statement
        params = [pk_value, *(v for _, v in restrictions), limit]
        return await self._page(table, statement, params, limit, consistent)

    async def scan(
        self,
        table: TableSchema,
        segment: int,
        total_segments: int,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page:
        low, high = segment_range(segment, total_segments, _TOKEN_SPACE, _MIN_TOKEN)
        items: list[Item] = []
        if start_key is not None:
            # First the rest of the partition the previous page stopped in, then later tokens.
            if table.sort_key is not None:
                rest = await self.query(table, start_key[table.partition_key.name], None, True,
                                        limit, start_key, consistent)
                items = rest.items
                if rest.last_key is not None:
                    return Page(items, rest.last_key)
            pk = key_column(table.partition_key.name)
            statement = await self._scan_statement(table, f"token({pk}) > token(?)")
            params: list[Any] = [key_to_cql(table.partition_key, start_key[table.partition_key.name]),
                                 high - 1, limit - len(items)]
        else:
            statement = await self._scan_statement(table, f"token({key_column(table.partition_key.name)}) >= ?")
            params = [low, high - 1, limit]
        page = await self._page(table, statement, params, limit - len(items), consistent)
        return Page(items + page.items, page.last_key)

    async def scan_derived(
        self, table: TableSchema, space: str, segment: int, total_segments: int, limit: int,
        start: tuple[bytes, bytes] | None, consistent: bool,
    ) -> list[tuple[bytes, bytes, bytes]]:
        """An index table in token order (the shared ``dx`` is never scanned)."""
        target = await self.derived_statements(table, space)
        low, high = segment_range(segment, total_segments, _TOKEN_SPACE, _MIN_TOKEN)
        rows: list[tuple[bytes, bytes, bytes]] = []
        if start is not None:
            # First the rest of the partition the previous page stopped in, then later tokens.
            rows = await self._derived_page(target, "part = ? AND sort > ?", list(start), limit,
                                            consistent)
            if len(rows) == limit:
                return rows
            lower, params = "token(part) > token(?)", list[Any]([start[0]])
        else:
            lower, params = "token(part) >= ?", [low]
        rows += await self._derived_page(target, f"{lower} AND token(part) <= ?",
                                         [*params, high - 1], limit - len(rows), consistent)
        return rows

    async def _derived_page(self, target: Any, where: str, params: list[Any], limit: int,
                            consistent: bool) -> list[tuple[bytes, bytes, bytes]]:
        if limit <= 0:
            return []
        cql = f"SELECT part, sort, value FROM {target.table} WHERE {where} LIMIT ?"
        statement = await self.prepared(cql, cql)
        bound = statement.bind([*params, limit])
        bound.consistency_level = self._cl.LOCAL_QUORUM if consistent else self._cl.LOCAL_ONE
        bound.fetch_size = limit
        rows = (await self.execute(bound)).current_rows
        return [(bytes(p), bytes(s), bytes(v)) for p, s, v in rows]

    def derived_segment_of(self, table: TableSchema, partition: bytes,
                           total_segments: int) -> int:
        from cassandra.murmur3 import murmur3

        return segment_of(murmur3(partition), total_segments, _TOKEN_SPACE, _MIN_TOKEN)

    def segment_of(self, table: TableSchema, key: Item, total_segments: int) -> int:
        from cassandra.cqltypes import DecimalType
        from cassandra.murmur3 import murmur3

        value = key_to_cql(table.partition_key, key[table.partition_key.name])
        if isinstance(value, str):
            routing = value.encode()
        elif isinstance(value, Decimal):
            routing = DecimalType.serialize(value, 4)
        else:
            routing = bytes(value)
        return segment_of(murmur3(routing), total_segments, _TOKEN_SPACE, _MIN_TOKEN)

    async def _scan_statement(self, table: TableSchema, lower: str) -> Any:
        stmts = await self._prepared(table)
        shape = ("scan", lower)
        statement = stmts.by_query.get(shape)
        if statement is None:
            pk = key_column(table.partition_key.name)
            statement = await self.prepare(
                f"SELECT {', '.join(key_columns(table))}, \":version\", \":attrs\" FROM "
                f"{qualified(table)} WHERE {lower} AND token({pk}) <= ? LIMIT ?",
            )
            stmts.by_query[shape] = statement
        return statement

    async def _page(self, table: TableSchema, statement: Any, params: list[Any], limit: int,
                    consistent: bool) -> Page:
        if limit <= 0:
            return Page([], None)
        bound = statement.bind(params)
        bound.consistency_level = self._cl.LOCAL_QUORUM if consistent else self._cl.LOCAL_ONE
        bound.fetch_size = limit
        rows = (await self.execute(bound)).current_rows
        has_sort = table.sort_key is not None
        # Rows that only lock an absent item for a transaction are not items; the page still
        # ends where its last row does.
        items = [row_to_item(table, r[0], r[1] if has_sort else None, r[-1]) for r in rows
                 if not is_absent_lock(r[-2])]
        last = None
        if len(rows) == limit:
            r = rows[-1]
            last = {n: v for n, v in row_to_item(table, r[0], r[1] if has_sort else None,
                                                  None).items() if n in table.key_names}
        return Page(items, last)


def sort_restrictions(
    table: TableSchema, sort: SortCondition | None, start_key: Item | None, forward: bool
) -> list[tuple[str, Any]]:
    """CQL restrictions on the clustering column: the sort condition narrowed by a start key."""
    assert table.sort_key is not None
    attr = table.sort_key
    lower: tuple[str, Any] | None = None
    upper: tuple[str, Any] | None = None
    if sort is not None:
        values = [key_to_cql(attr, v) for v in sort.values]
        match sort.op:
            case "=":
                lower, upper = (">=", values[0]), ("<=", values[0])
            case ">" | ">=":
                lower = (sort.op, values[0])
            case "<" | "<=":
                upper = (sort.op, values[0])
            case "BETWEEN":
                lower, upper = (">=", values[0]), ("<=", values[1])
            case "BEGINS_WITH":
                lower = (">=", values[0])
                end = _prefix_end(values[0])
                if end is not None:
                    upper = ("<", end)
    if start_key is not None:
        start = key_to_cql(attr, start_key[attr.name])
        if forward:
            lower = (">", start)
        else:
            upper = ("<", start)
    return [r for r in (lower, upper) if r is not None]


def _prefix_end(prefix: Any) -> Any:
    """The least value above every value that begins with ``prefix`` (str or bytes)."""
    if isinstance(prefix, bytes):
        stripped = prefix.rstrip(b"\xff")
        return stripped[:-1] + bytes((stripped[-1] + 1,)) if stripped else None
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix[:i] + chr(code)
    return None
