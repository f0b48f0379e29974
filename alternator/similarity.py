"""Vector similarity, pure: DynamoDB's scores for each distance function, and exact top-k.

The scores are those of the SearchVectors API reference (docs/vector-search.md#scores):
COSINE is the cosine distance 1 - cos(q, v), from 0 to 2, lower is nearer; EUCLIDEAN the
Euclidean distance, lower is nearer; DOT_PRODUCT the dot product, higher is nearer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Matrix = Any  # numpy arrays: (n, d) stored vectors, (d,) the search vector


def higher_is_nearer(distance: str) -> bool:
    return distance == "DOT_PRODUCT"


def scores(distance: str, query: Matrix, matrix: Matrix) -> Matrix:
    """The score of each row of ``matrix`` against ``query``, in the arrays' precision."""
    if distance == "DOT_PRODUCT":
        return matrix @ query
    if distance == "EUCLIDEAN":
        return np.sqrt(np.maximum(
            np.einsum("ij,ij->i", matrix, matrix) - 2 * (matrix @ query) + query @ query, 0))
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
    return 1 - (matrix @ query) / np.where(norms == 0, 1, norms)


def nearest(distance: str, values: Matrix, k: int) -> list[int]:
    """The positions of the ``k`` best scores, best first."""
    order = -values if higher_is_nearer(distance) else values
    if k < len(order):
        picked = np.argpartition(order, k - 1)[:k]
        return [int(i) for i in picked[np.argsort(order[picked], kind="stable")]]
    return [int(i) for i in np.argsort(order, kind="stable")]


def exact_score(distance: str, query: tuple[float, ...], vector: tuple[float, ...]) -> float:
    """One stored vector's score, in double precision (as returned to the client)."""
    q = np.asarray(query, dtype=np.float64)
    v = np.asarray(vector, dtype=np.float64)
    if distance == "DOT_PRODUCT":
        return float(q @ v)
    if distance == "EUCLIDEAN":
        return float(np.linalg.norm(q - v))
    norms = float(np.linalg.norm(q) * np.linalg.norm(v))
    return 1.0 - float(q @ v) / norms if norms else 1.0
