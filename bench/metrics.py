"""Metric functions for verification and clustering (pure numpy, no I/O).

Distances: a pair is accepted as "same person" when its distance is strictly
below the threshold, as in `recognition.matching`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


# ---------------------------------------------------------------- verification

def roc(genuine: ArrayLike, impostor: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    """(thresholds, false accept rate, true accept rate), thresholds ascending.

    Evaluated at every distinct distance (accept d < t) plus one above all.
    """
    genuine = np.sort(np.asarray(genuine, dtype=np.float64))
    impostor = np.sort(np.asarray(impostor, dtype=np.float64))
    thresholds = np.unique(np.r_[genuine, impostor, np.inf])
    tar = np.searchsorted(genuine, thresholds, side="left") / max(len(genuine), 1)
    far = np.searchsorted(impostor, thresholds, side="left") / max(len(impostor), 1)
    return thresholds, far, tar


def equal_error_rate(genuine: ArrayLike, impostor: ArrayLike) -> tuple[float, float]:
    """(EER, threshold): where false accepts and false rejects are closest.

    The EER is the mean of the two rates at the threshold where they differ
    least (exact when the curves cross at a sample point).
    """
    thresholds, far, tar = roc(genuine, impostor)
    frr = 1.0 - tar
    best = int(np.argmin(np.abs(far - frr)))
    return float((far[best] + frr[best]) / 2), float(thresholds[best])


def tar_at_far(genuine: ArrayLike, impostor: ArrayLike, target_far: float) -> tuple[float, float]:
    """(true accept rate, threshold) at the largest threshold whose FAR <= target."""
    thresholds, far, tar = roc(genuine, impostor)
    ok = np.flatnonzero(far <= target_far)
    best = ok[-1]  # far is non-decreasing in the threshold, and far[0] == 0
    return float(tar[best]), float(thresholds[best])


def rates_at(genuine: ArrayLike, impostor: ArrayLike, threshold: float) -> dict[str, float]:
    """Accept rates and accuracy at one threshold."""
    genuine = np.asarray(genuine)
    impostor = np.asarray(impostor)
    tar = float(np.mean(genuine < threshold)) if len(genuine) else float("nan")
    far = float(np.mean(impostor < threshold)) if len(impostor) else float("nan")
    correct = np.sum(genuine < threshold) + np.sum(impostor >= threshold)
    return {
        "tar": tar, "far": far,
        "accuracy": float(correct / (len(genuine) + len(impostor))),
        "balanced_accuracy": (tar + 1.0 - far) / 2,
    }


# ---------------------------------------------------------------- clustering

def _contingency(truth: ArrayLike, predicted: ArrayLike) -> NDArray[np.int64]:
    """(true classes, predicted clusters) counts."""
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    _, p = np.unique(np.asarray(predicted), return_inverse=True)
    table = np.zeros((t.max() + 1 if len(t) else 0, p.max() + 1 if len(p) else 0), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    return table


def _pairs(n: NDArray[np.int64]) -> int:
    return int((n * (n - 1) // 2).sum())


def pairwise_precision_recall(truth: ArrayLike, predicted: ArrayLike) -> tuple[float, float]:
    """Over all pairs of faces: precision = same-cluster pairs that are the same
    person; recall = same-person pairs that share a cluster. A side with no
    pairs at all counts as 1.0 (nothing to get wrong)."""
    table = _contingency(truth, predicted)
    together = _pairs(table)
    predicted_pairs = _pairs(table.sum(0))
    true_pairs = _pairs(table.sum(1))
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    return float(precision), float(recall)


def bcubed(truth: ArrayLike, predicted: ArrayLike) -> tuple[float, float, float]:
    """(precision, recall, F) of BCubed (Bagga & Baldwin): per face, the share of
    its cluster that is its person, and of its person that is in its cluster."""
    table = _contingency(truth, predicted).astype(np.float64)
    n = table.sum()
    if n == 0:
        return 1.0, 1.0, 1.0
    cluster_sizes = table.sum(0)
    class_sizes = table.sum(1)
    precision = float((table ** 2 / cluster_sizes[None, :]).sum() / n)
    recall = float((table ** 2 / class_sizes[:, None]).sum() / n)
    return precision, recall, 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class ClusteringScore:
    pairwise_precision: float
    pairwise_recall: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f: float
    clusters: int
    people: int
    clusters_per_person: float  # mean number of clusters one person's faces fall in
    mixed_clusters: int  # clusters holding faces of two or more people
    people_merged: int  # people with a face in a mixed cluster


def clustering_score(truth: ArrayLike, predicted: ArrayLike) -> ClusteringScore:
    table = _contingency(truth, predicted)
    precision, recall = pairwise_precision_recall(truth, predicted)
    bp, br, bf = bcubed(truth, predicted)
    present = table > 0
    mixed = present.sum(0) >= 2
    return ClusteringScore(
        pairwise_precision=precision, pairwise_recall=recall,
        bcubed_precision=bp, bcubed_recall=br, bcubed_f=bf,
        clusters=int(table.shape[1]), people=int(table.shape[0]),
        clusters_per_person=float(present.sum(1).mean()) if table.size else 0.0,
        mixed_clusters=int(mixed.sum()),
        people_merged=int(present[:, mixed].any(1).sum()),
    )
