"""Open-set matching: a face is a contact only when it is close AND unambiguous.

A face matches contact A when its distance to A (the nearest of A's reference
faces) is under `threshold`, and the next contact is at least `margin`
further away. Within one photo a contact matches at most one face: the closest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .distances import pairwise


@dataclass(frozen=True)
class Gallery:
    """All reference embeddings of one user's contacts, sorted by contact id."""

    embeddings: NDArray[np.float32]  # (M, D)
    contact_ids: NDArray[np.int64]  # (M,), non-decreasing

    @classmethod
    def build(cls, embeddings: NDArray[np.float32], contact_ids: NDArray[np.int64]) -> "Gallery":
        order = np.argsort(contact_ids, kind="stable")
        return cls(np.asarray(embeddings, dtype=np.float32)[order], np.asarray(contact_ids)[order])

    @property
    def empty(self) -> bool:
        return len(self.contact_ids) == 0


@dataclass(frozen=True)
class Match:
    cid: int
    distance: float


def contact_distances(probes: NDArray[np.float32], gallery: Gallery) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Distance of each probe to each contact (nearest reference face).

    Returns (contact ids (C,), distances (N, C)).
    """
    per_reference = pairwise(probes, gallery.embeddings)
    starts = np.flatnonzero(np.r_[True, gallery.contact_ids[1:] != gallery.contact_ids[:-1]])
    return gallery.contact_ids[starts], np.minimum.reduceat(per_reference, starts, axis=1)


def match_faces(probes: NDArray[np.float32], gallery: Gallery, threshold: float,
                margin: float) -> list[Match | None]:
    """One entry per probe: the contact it is, or None (unknown)."""
    if len(probes) == 0:
        return []
    if gallery.empty:
        return [None] * len(probes)
    cids, distances = contact_distances(probes, gallery)
    candidates: list[tuple[float, int, int]] = []  # (distance, probe, contact column)
    for i, row in enumerate(distances):
        best = int(np.argmin(row))
        d1 = float(row[best])
        d2 = float(np.partition(row, 1)[1]) if len(row) > 1 else np.inf
        if d1 < threshold and d2 - d1 >= margin:
            candidates.append((d1, i, best))
    results: list[Match | None] = [None] * len(probes)
    taken: set[int] = set()
    for d, i, column in sorted(candidates):  # closest first: it keeps the contact
        if column not in taken:
            taken.add(column)
            results[i] = Match(int(cids[column]), d)
    return results
