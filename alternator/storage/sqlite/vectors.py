"""The embedded backend's vector search: exact (brute force) nearest neighbours with numpy.

A vector index entry is a row of ``derived_rows`` (docs/vector-search.md#sqlite) whose value
packs the entry: a 4-byte little-endian length ``n``, the inline filters as JSON (``n``
bytes), the vector as little-endian 32-bit floats, then the projected item's JSON. A search
reads the entries of one partition (an index with a HASH attribute) or of the whole index,
keeps those whose filters match, and ranks them exactly, all on the backend's SQLite thread.
"""

from __future__ import annotations

import struct

import numpy as np
import orjson

from alternator import similarity
from alternator.schema import TableSchema, VectorIndexSchema
from alternator.storage import DerivedRow
from alternator.storage.codec import partition_token
from alternator.storage.sqlite.base import SQLiteBase

_LENGTH = struct.Struct("<I")


def stored_value(row: DerivedRow) -> bytes | None:
    """What ``derived_rows.value`` holds for a derived row."""
    if row.vector is None or row.value is None:
        return row.value
    filters = orjson.dumps(list(row.filters))
    return b"".join((_LENGTH.pack(len(filters)), filters,
                     np.asarray(row.vector, dtype="<f4").tobytes(), row.value))


def unpack(value: bytes, dimensions: int) -> tuple[list[str | None], bytes, bytes]:
    """(filters, vector bytes, projected item JSON) of a packed entry."""
    (length,) = _LENGTH.unpack_from(value)
    start = _LENGTH.size + length
    end = start + 4 * dimensions
    return orjson.loads(value[_LENGTH.size:start]), value[start:end], value[end:]


class SQLiteVectors(SQLiteBase):
    async def search_vectors(
        self, table: TableSchema, index: VectorIndexSchema, partition: bytes | None,
        filters: dict[int, str], vector: tuple[float, ...], k: int,
    ) -> list[tuple[bytes, tuple[float, ...]]]:
        return await self._run(self._search, table, index, partition, filters, vector, k)

    def _search(self, table: TableSchema, index: VectorIndexSchema, partition: bytes | None,
                filters: dict[int, str], vector: tuple[float, ...], k: int,
                ) -> list[tuple[bytes, tuple[float, ...]]]:
        sql = "SELECT value FROM derived_rows WHERE tid = ? AND space = ?"
        args: list[object] = [table.table_id, index.space]
        if partition is not None:
            sql += " AND token = ? AND part = ?"
            args += [partition_token(partition), partition]
        vectors: list[bytes] = []
        items: list[bytes] = []
        for (value,) in self.db.execute(sql, args):
            kept, raw, item = unpack(value, index.dimensions)
            if any(kept[i] != wanted for i, wanted in filters.items()):
                continue
            vectors.append(raw)
            items.append(item)
        if not vectors:
            return []
        matrix = np.frombuffer(b"".join(vectors), dtype="<f4").reshape(len(vectors), -1)
        query = np.asarray(vector, dtype=np.float32)
        best = similarity.nearest(index.distance, similarity.scores(index.distance, query,
                                                                    matrix), k)
        return [(items[i], tuple(float(x) for x in matrix[i])) for i in best]
