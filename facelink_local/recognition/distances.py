"""Euclidean distances between embeddings, the metric dlib's descriptor is trained for."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def pairwise(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """(N, D) x (M, D) -> (N, M) Euclidean distances, via one matrix product."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    np.maximum(squared, 0.0, out=squared)
    return np.sqrt(squared, out=squared)
