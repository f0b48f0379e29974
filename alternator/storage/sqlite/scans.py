"""The embedded backend's Query and Scan: ranges of ``items`` in key order.

Within a partition items are ordered by their encoded sort key; a Scan walks the whole table in
(token, partition key, sort key) order, and a parallel Scan's segment is a range of tokens.
"""

from __future__ import annotations

from typing import Any

import orjson

from alternator.schema import TableSchema
from alternator.storage import Page, SortCondition
from alternator.storage.codec import encode_sortable, partition_token, segment_of, segment_range
from alternator.storage.sqlite.base import SQLiteBase
from alternator.storage.sqlite.items import locate
from alternator.values import AttributeValue, Item


class SQLiteScans(SQLiteBase):
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
        pk = encode_sortable(table.partition_key.type, partition)
        sql = ["SELECT item FROM items WHERE tid = ? AND token = ? AND pk = ?"]
        args: list[Any] = [table.table_id, partition_token(pk), pk]
        if sort is not None and table.sort_key is not None:
            kind = table.sort_key.type
            bounds = [encode_sortable(kind, v) for v in sort.values]
            if sort.op == "BETWEEN":
                sql.append("AND sk >= ? AND sk <= ?")
                args += bounds
            elif sort.op == "BEGINS_WITH":
                sql.append("AND sk >= ?")
                args.append(bounds[0])
                upper = _prefix_end(bounds[0])
                if upper is not None:
                    sql.append("AND sk < ?")
                    args.append(upper)
            else:
                sql.append(f"AND sk {sort.op} ?")
                args.append(bounds[0])
        if start_key is not None and table.sort_key is not None:
            sql.append("AND sk > ?" if forward else "AND sk < ?")
            args.append(encode_sortable(table.sort_key.type, start_key[table.sort_key.name]))
        elif start_key is not None:
            return Page([], None)  # a hash-only partition holds one item, already returned
        sql.append("ORDER BY sk" + ("" if forward else " DESC") + " LIMIT ?")
        args.append(limit)
        return await self._run(self._page, table, " ".join(sql), args, limit)

    async def scan(
        self,
        table: TableSchema,
        segment: int,
        total_segments: int,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page:
        low, high = segment_range(segment, total_segments)
        sql = ["SELECT item FROM items WHERE tid = ? AND token >= ? AND token < ?"]
        args: list[Any] = [table.table_id, low, high]
        if start_key is not None:
            sql.append("AND (token, pk, sk) > (?, ?, ?)")
            args += locate(table, start_key)[1:]
        sql.append("ORDER BY token, pk, sk LIMIT ?")
        args.append(limit)
        return await self._run(self._page, table, " ".join(sql), args, limit)

    def _page(self, table: TableSchema, sql: str, args: list[Any], limit: int) -> Page:
        items = [orjson.loads(r[0]) for r in self.db.execute(sql, args)]
        last = None
        if len(items) == limit and items:
            last = {n: items[-1][n] for n in table.key_names}
        return Page(items, last)

    def segment_of(self, table: TableSchema, key: Item, total_segments: int) -> int:
        return segment_of(locate(table, key)[1], total_segments)



def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))
