"""The Cassandra backend's vector search: Cassandra 5.0's ANN search over a vector index's SAI
index (docs/vector-search.md#cassandra-50).

One statement per search, ``ORDER BY vec ANN OF ? LIMIT k``, restricted to the partition of
the HASH value (an index with a HASH attribute) and by equality on the SAI-indexed inline
filter columns. Cassandra orders by its own similarity; the operation scores exactly, and
keeps the ``k`` nearest of the candidates.
"""

from __future__ import annotations

from typing import Any

from alternator.schema import TableSchema, VectorIndexSchema
from alternator.storage.cassandra.items import CassandraItems

# Cassandra's largest ANN LIMIT, and how many more candidates than asked for are fetched: the
# ANN search is approximate (and its dot product is meant for normalized vectors), so it is
# asked for more and the operation keeps the exactly nearest (tests/test_vector_search.py).
MAX_ANN_LIMIT = 1000
OVERFETCH = 4
DOT_PRODUCT_OVERFETCH = 16


class CassandraVectors(CassandraItems):
    async def search_vectors(
        self, table: TableSchema, index: VectorIndexSchema, partition: bytes | None,
        filters: dict[int, str], vector: tuple[float, ...], k: int,
    ) -> list[tuple[bytes, tuple[float, ...]]]:
        target = await self.derived_statements(table, index.space)
        used = tuple(sorted(filters))
        shape = ("ann", index.space, partition is not None, used)
        stmts = await self._prepared(table)
        statement = stmts.by_query.get(shape)
        if statement is None:
            where = ["part = ?"] if partition is not None else []
            where += [f"f{i} = ?" for i in used]
            restriction = f"WHERE {' AND '.join(where)} " if where else ""
            statement = await self.prepare(
                f"SELECT value, vec FROM {target.table} {restriction}"
                "ORDER BY vec ANN OF ? LIMIT ?")
            stmts.by_query[shape] = statement
        params: list[Any] = [partition] if partition is not None else []
        params += [filters[i] for i in used]
        factor = DOT_PRODUCT_OVERFETCH if index.distance == "DOT_PRODUCT" else OVERFETCH
        limit = min(MAX_ANN_LIMIT, max(k * factor, 50))
        params += [list(vector), limit]
        bound = statement.bind(params)
        bound.consistency_level = self._cl.LOCAL_ONE
        bound.fetch_size = limit
        rows = (await self.execute(bound)).current_rows
        return [(bytes(value), tuple(float(x) for x in vec)) for value, vec in rows]
