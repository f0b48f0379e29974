"""The embedded backend's vector search: exact (brute force) nearest neighbours with numpy.

A vector index entry is a row of ``derived_rows`` (docs/vector-search.md#sqlite) whose value
packs the entry: a 4-byte little-endian length ``n``, the inline filters as JSON (``n``
bytes), the vector as little-endian 32-bit floats, then the projected item's JSON. A search
keeps the entries of its partition (an index with a HASH attribute) whose filters match, and
ranks them exactly, all on the backend's SQLite thread. The entries of the indexes searched
last are kept in memory as one float32 matrix each, and read again after any commit that may
have changed derived rows (docs/vector-search.md#sqlite).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from alternator import similarity
from alternator.schema import TableSchema, VectorIndexSchema
from alternator.storage import DerivedRow
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


@dataclass(slots=True)
class _Loaded:
    """A vector index's entries as a search uses them, and when they were read."""

    stamp: tuple[int, int]
    parts: list[bytes]
    filters: list[list[str | None]]
    items: list[bytes]
    matrix: Any  # (n, dimensions) float32


# How many vector indexes' entries are kept in memory (the most recently searched).
CACHED_INDEXES = 4


class SQLiteVectors(SQLiteBase):
    _vectors: dict[tuple[str, str], _Loaded] | None = None

    async def search_vectors(
        self, table: TableSchema, index: VectorIndexSchema, partition: bytes | None,
        filters: dict[int, str], vector: tuple[float, ...], k: int,
    ) -> list[tuple[bytes, tuple[float, ...]]]:
        return await self._run(self._search, table, index, partition, filters, vector, k)

    def _loaded(self, table: TableSchema, index: VectorIndexSchema) -> _Loaded:
        """The index's entries, read again only when a commit may have changed them: one of
        this connection's (``derived_generation``) or another's (``PRAGMA data_version``)."""
        if self._vectors is None:
            self._vectors = {}
        stamp = (self.db.execute("PRAGMA data_version").fetchone()[0], self.derived_generation)
        key = (table.table_id, index.space)
        found = self._vectors.pop(key, None)
        if found is None or found.stamp != stamp:
            found = self._read_entries(table, index, stamp)
        self._vectors[key] = found  # most recently used last
        while len(self._vectors) > CACHED_INDEXES:
            del self._vectors[next(iter(self._vectors))]
        return found

    def _read_entries(self, table: TableSchema, index: VectorIndexSchema,
                      stamp: tuple[int, int]) -> _Loaded:
        parts: list[bytes] = []
        filters: list[list[str | None]] = []
        vectors: list[bytes] = []
        items: list[bytes] = []
        for part, value in self.db.execute(
                "SELECT part, value FROM derived_rows WHERE tid = ? AND space = ?",
                (table.table_id, index.space)):
            kept, raw, item = unpack(value, index.dimensions)
            parts.append(bytes(part))
            filters.append(kept)
            vectors.append(raw)
            items.append(item)
        matrix = np.frombuffer(b"".join(vectors), dtype="<f4").reshape(len(vectors),
                                                                     index.dimensions)
        return _Loaded(stamp, parts, filters, items, matrix)

    def _search(self, table: TableSchema, index: VectorIndexSchema, partition: bytes | None,
                filters: dict[int, str], vector: tuple[float, ...], k: int,
                ) -> list[tuple[bytes, tuple[float, ...]]]:
        loaded = self._loaded(table, index)
        if not loaded.items:
            return []
        matrix = loaded.matrix
        positions: list[int] | None = None
        if partition is not None or filters:
            positions = [
                i for i, (part, kept) in enumerate(zip(loaded.parts, loaded.filters,
                                                       strict=True))
                if (partition is None or part == partition)
                and all(kept[f] == wanted for f, wanted in filters.items())]
            if not positions:
                return []
            matrix = matrix[positions]
        query = np.asarray(vector, dtype=np.float32)
        best = similarity.nearest(index.distance,
                                  similarity.scores(index.distance, query, matrix), k)
        if positions is not None:
            best = [positions[i] for i in best]
        return [(loaded.items[i], tuple(float(x) for x in loaded.matrix[i])) for i in best]
