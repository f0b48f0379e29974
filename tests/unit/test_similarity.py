"""The pure parts of vector search: scores as docs/vector-search.md defines them, exact top-k,
vector index entries and the packed SQLite entry (alternator/similarity.py, derived.py,
storage/sqlite/vectors.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alternator import similarity
from alternator.derived import change, vector_entry
from alternator.schema import KeyAttribute, TableSchema, VectorIndexSchema
from alternator.storage.sqlite.vectors import stored_value, unpack


def test_scores_follow_the_api_reference() -> None:
    q = (1.0, 0.0)
    assert similarity.exact_score("COSINE", q, (2.0, 0.0)) == pytest.approx(0.0)
    assert similarity.exact_score("COSINE", q, (0.0, 3.0)) == pytest.approx(1.0)
    assert similarity.exact_score("COSINE", q, (-1.0, 0.0)) == pytest.approx(2.0)
    assert similarity.exact_score("EUCLIDEAN", q, (4.0, 4.0)) == pytest.approx(5.0)
    assert similarity.exact_score("DOT_PRODUCT", q, (3.0, 7.0)) == pytest.approx(3.0)


@pytest.mark.parametrize("distance", ["COSINE", "EUCLIDEAN", "DOT_PRODUCT"])
def test_matrix_scores_and_nearest_agree_with_one_by_one(distance: str) -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(50, 6))
    q = rng.normal(size=6)
    scores = similarity.scores(distance, q, matrix)
    one_by_one = [similarity.exact_score(distance, tuple(q), tuple(row)) for row in matrix]
    assert np.allclose(scores, one_by_one)
    best = similarity.nearest(distance, scores, 5)
    ranked = sorted(range(50), key=lambda i: -one_by_one[i] if distance == "DOT_PRODUCT"
                    else one_by_one[i])
    assert best == ranked[:5]
    assert similarity.nearest(distance, scores, 80) == ranked


def _table(index: VectorIndexSchema) -> TableSchema:
    return TableSchema("t", KeyAttribute("p", "S"), None, (KeyAttribute("p", "S"),), "tid",
                       0.0, billing_mode="PAY_PER_REQUEST", vector_indexes=(index,))


def test_vector_entries_and_their_packed_form() -> None:
    index = VectorIndexSchema("ix", "v", 3, "EUCLIDEAN", KeyAttribute("g", "S"),
                              (KeyAttribute("n", "N"),), id="abc")
    table = _table(index)
    item = {"p": {"S": "k"}, "g": {"S": "x"}, "n": {"N": "1.50"},
            "v": {"L": [{"N": "0.1"}, {"N": "2"}, {"N": "-3"}]}}
    entry = vector_entry(table, index, item)
    assert entry is not None and entry.space == "vector:abc"
    assert entry.vector == pytest.approx((0.1, 2.0, -3.0))
    assert entry.vector[0] == float(np.float32(0.1))  # kept as a 32-bit float
    same_number = vector_entry(table, index, {**item, "n": {"N": "1.5"}})
    assert same_number is not None and same_number.filters == entry.filters
    filters, raw, value = unpack(stored_value(entry) or b"", 3)
    assert filters == list(entry.filters)
    assert tuple(float(x) for x in np.frombuffer(raw, "<f4")) == entry.vector
    assert value == entry.value
    # No HASH value or no usable vector: not in the index.
    assert vector_entry(table, index, {k: v for k, v in item.items() if k != "g"}) is None
    assert vector_entry(table, index, {**item, "v": {"S": "x"}}) is None
    assert vector_entry(table, index, {**item, "v": {"L": [{"N": "1"}]}}) is None
    moved = change(table, item, {**item, "g": {"S": "y"}}, False)
    assert [r.value for r in moved.stale] == [None] and len(moved.rows) == 1


def test_float32_range() -> None:
    index = VectorIndexSchema("ix", "v", 1, "DOT_PRODUCT", id="abc")
    item = {"p": {"S": "k"}, "v": {"L": [{"N": "3.4E38"}]}}
    entry = vector_entry(_table(index), index, item)
    assert entry is not None and math.isfinite(entry.vector[0])  # type: ignore[index]
    assert vector_entry(_table(index), index, {**item, "v": {"L": [{"N": "3.5E38"}]}}) is None
