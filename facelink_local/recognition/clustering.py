"""Grouping unknown faces into people, incrementally.

New faces first try to join an existing group: a face joins the group whose
members are, on root-mean-square, within `threshold` of it (close to average
linkage, computed from the group's centroid and spread in O(groups)). Faces
that join nothing are grouped among themselves with scikit-learn's average
linkage agglomerative clustering, in chunks, so a pull costs
O(new x groups + chunk^2) rather than O(all^2).

`recluster` starts from scratch and lets each new group inherit the id of an
old group it holds at least half of (merges and splits get new ids).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.cluster import AgglomerativeClustering

CHUNK = 1500
BLOCK = 128  # new faces compared with every group at once: BLOCK x groups float32 scratch


@dataclass
class _Groups:
    """Running sums per group, enough for the RMS distance of a face to the group's members."""

    sums: NDArray[np.float64]  # (G, D)
    square_sums: NDArray[np.float64]  # (G,)  sum of |x|^2
    counts: NDArray[np.int64]  # (G,)

    @classmethod
    def from_labels(cls, embeddings: NDArray[np.float32], labels: NDArray[np.int64], n_groups: int, dim: int) -> "_Groups":
        groups = cls(np.zeros((n_groups, dim)), np.zeros(n_groups), np.zeros(n_groups, dtype=np.int64))
        groups.add(labels, embeddings)
        return groups

    def nearest(self, x: NDArray[np.float32]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """For each face: (the group of least RMS distance, that distance).

        RMS^2 to the members m of a group = |x|^2 - 2 x.c + mean(|m|^2), with c the
        group's centroid: the last two terms are one matrix product of [x, 1]
        with [-2c, mean(|m|^2)], a block of faces at a time, so no (faces x
        groups) matrix is kept beyond a block.
        """
        nearest = np.full(len(x), -1, dtype=np.int64)
        distance = np.full(len(x), np.inf)
        if not (self.counts > 0).any():
            return nearest, distance
        counts = np.maximum(self.counts, 1)
        weights = np.empty((self.sums.shape[1] + 1, len(counts)), np.float32)  # (D+1, G)
        np.multiply(self.sums.T, -2.0 / counts, out=weights[:-1], casting="same_kind")
        weights[-1] = np.where(self.counts > 0, self.square_sums / counts, np.inf)
        x = np.asarray(x, dtype=np.float32)
        for start in range(0, len(x), BLOCK):
            block = x[start:start + BLOCK]
            d2 = np.hstack([block, np.ones((len(block), 1), np.float32)]) @ weights
            best = d2.argmin(1)
            squared = d2[np.arange(len(block)), best].astype(np.float64) + np.einsum("ij,ij->i", block, block)
            nearest[start:start + len(block)] = best
            distance[start:start + len(block)] = np.sqrt(np.maximum(squared, 0.0))
        return nearest, distance

    def add(self, labels: NDArray[np.int64], x: NDArray[np.float32]) -> None:
        """Add faces `x` to groups `labels` (growing the arrays for new labels)."""
        if not len(labels):
            return
        grow = int(labels.max()) + 1 - len(self.counts)
        if grow > 0:
            self.sums = np.vstack([self.sums, np.zeros((grow, self.sums.shape[1]))])
            self.square_sums = np.r_[self.square_sums, np.zeros(grow)]
            self.counts = np.r_[self.counts, np.zeros(grow, dtype=np.int64)]
        x = np.asarray(x, dtype=np.float32)
        # Per-group sums as a sparse (groups x faces) one-hot product: far faster than np.add.at.
        one_hot = csr_matrix((np.ones(len(labels), np.float32), (labels, np.arange(len(labels)))),
                             shape=(len(self.counts), len(labels)))
        self.sums += one_hot @ x
        self.square_sums += np.bincount(labels, weights=np.einsum("ij,ij->i", x, x), minlength=len(self.counts))
        self.counts += np.bincount(labels, minlength=len(self.counts))


def assign(existing: NDArray[np.float32], existing_labels: NDArray[np.int64],
           new: NDArray[np.float32], threshold: float) -> NDArray[np.int64]:
    """Labels for `new` faces: an existing label (joined) or fresh ones (>= max+1)."""
    dim = new.shape[1] if new.ndim == 2 else 128
    n_groups = int(existing_labels.max()) + 1 if len(existing_labels) else 0
    groups = _Groups.from_labels(existing, existing_labels, n_groups, dim)
    labels = np.full(len(new), -1, dtype=np.int64)
    next_label = n_groups
    for start in range(0, len(new), CHUNK):
        chunk = new[start:start + CHUNK]
        nearest, distance = groups.nearest(chunk)
        joined = np.where(distance < threshold, nearest, -1)
        loose = np.flatnonzero(joined < 0)
        if len(loose) == 1:
            joined[loose[0]] = next_label
            next_label += 1
        elif len(loose) > 1:
            local = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                            linkage="average", metric="euclidean").fit_predict(chunk[loose])
            joined[loose] = local + next_label
            next_label += int(local.max()) + 1
        groups.add(joined, chunk)
        labels[start:start + len(chunk)] = joined
    return labels


def inherit_ids(old_ids: list[str | None], new_labels: NDArray[np.int64]) -> dict[int, str]:
    """Which new label keeps which old id after a full re-cluster.

    A new group keeps an old group's id when it holds at least half of that old
    group's faces and at least half of no other old group (else it is a merge).
    """
    old_sizes = Counter(i for i in old_ids if i is not None)
    overlap = Counter((int(label), old) for label, old in zip(new_labels, old_ids) if old is not None)
    holds: dict[int, list[str]] = {}
    for (label, old), count in overlap.items():
        if 2 * count >= old_sizes[old]:
            holds.setdefault(label, []).append(old)
    inherited: dict[int, str] = {}
    used: set[str] = set()
    for label, olds in sorted(holds.items(), key=lambda kv: -sum(overlap[(kv[0], o)] for o in kv[1])):
        if len(olds) == 1 and olds[0] not in used:
            inherited[label] = olds[0]
            used.add(olds[0])
    return inherited
