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
from sklearn.cluster import AgglomerativeClustering

from .distances import pairwise

CHUNK = 1500


@dataclass
class _Groups:
    """Running sums per group, enough for centroid and spread."""

    sums: NDArray[np.float64]  # (G, D)
    square_sums: NDArray[np.float64]  # (G,)  sum of |x|^2
    counts: NDArray[np.int64]  # (G,)

    @classmethod
    def from_labels(cls, embeddings: NDArray[np.float32], labels: NDArray[np.int64], n_groups: int, dim: int) -> "_Groups":
        sums = np.zeros((n_groups, dim))
        square_sums = np.zeros(n_groups)
        counts = np.zeros(n_groups, dtype=np.int64)
        if len(labels):
            e = embeddings.astype(np.float64)
            np.add.at(sums, labels, e)
            np.add.at(square_sums, labels, (e * e).sum(1))
            np.add.at(counts, labels, 1)
        return cls(sums, square_sums, counts)

    def rms_distance(self, x: NDArray[np.float32]) -> NDArray[np.float64]:
        """(N, G): sqrt(mean over members of |x - member|^2)."""
        counts = np.maximum(self.counts, 1)
        centroids = self.sums / counts[:, None]
        spread = self.square_sums / counts - (centroids * centroids).sum(1)
        d2 = pairwise(x, centroids.astype(np.float32)).astype(np.float64) ** 2 + np.maximum(spread, 0)[None, :]
        d2[:, self.counts == 0] = np.inf
        return np.sqrt(d2)

    def add(self, label: int, x: NDArray[np.float32]) -> None:
        if label >= len(self.counts):
            grow = label + 1 - len(self.counts)
            self.sums = np.vstack([self.sums, np.zeros((grow, self.sums.shape[1]))])
            self.square_sums = np.r_[self.square_sums, np.zeros(grow)]
            self.counts = np.r_[self.counts, np.zeros(grow, dtype=np.int64)]
        x64 = x.astype(np.float64)
        self.sums[label] += x64
        self.square_sums[label] += float(x64 @ x64)
        self.counts[label] += 1


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
        joined = np.full(len(chunk), -1, dtype=np.int64)
        if len(groups.counts):
            rms = groups.rms_distance(chunk)
            nearest = rms.argmin(1)
            ok = rms[np.arange(len(chunk)), nearest] < threshold
            joined[ok] = nearest[ok]
        loose = np.flatnonzero(joined < 0)
        if len(loose) == 1:
            joined[loose[0]] = next_label
            next_label += 1
        elif len(loose) > 1:
            local = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                            linkage="average", metric="euclidean").fit_predict(chunk[loose])
            joined[loose] = local + next_label
            next_label += int(local.max()) + 1
        for i, label in enumerate(joined):
            groups.add(int(label), chunk[i])
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
