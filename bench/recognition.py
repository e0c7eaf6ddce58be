"""Verification, open-set identification and clustering on labeled faces.

Identification calls the product's `match_faces` (one call per probe photo, as
an upload does) and clustering calls the product's `clustering.assign` the way
`TimelineService.update_clusters` does, pull after pull.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from facelink_local.recognition import clustering
from facelink_local.recognition.distances import pairwise
from facelink_local.recognition.matching import Gallery, match_faces

from .metrics import ClusteringScore, clustering_score
from .photos import LabeledFaces


def split_people(people: list[str], seed: int) -> tuple[list[str], list[str]]:
    """A fixed, seeded half/half split of people: (tune, report)."""
    names = sorted(set(people))
    order = np.random.default_rng(seed).permutation(len(names))
    half = len(names) // 2
    tune = sorted(names[i] for i in order[:half])
    report = sorted(names[i] for i in order[half:])
    return tune, report


# ---------------------------------------------------------------- verification

@dataclass
class Pairs:
    genuine: np.ndarray  # distances of all same-person pairs
    impostor: np.ndarray  # distances of different-person pairs (all, or a seeded sample)
    impostor_total: int  # how many different-person pairs exist


def verification_pairs(faces: LabeledFaces, max_impostor: int = 500_000, seed: int = 0) -> Pairs:
    distances = pairwise(faces.embeddings, faces.embeddings).astype(np.float64)
    labels = np.array(faces.people)
    i, j = np.triu_indices(len(labels), k=1)
    same = labels[i] == labels[j]
    genuine = distances[i[same], j[same]]
    impostor = distances[i[~same], j[~same]]
    total = len(impostor)
    if total > max_impostor:
        impostor = np.random.default_rng(seed).choice(impostor, max_impostor, replace=False)
    return Pairs(genuine, impostor, total)


# ---------------------------------------------------------------- identification

@dataclass
class Outcomes:
    """Counts over all probes of one (threshold, margin)."""

    known: int = 0  # probes of enrolled people (unseen photos)
    right: int = 0
    missed: int = 0  # enrolled person answered "unknown"
    wrong: int = 0  # enrolled person answered as another contact
    strangers: int = 0  # probes of people never enrolled
    strangers_accepted: int = 0

    @property
    def recognized(self) -> float:
        return self.right / self.known if self.known else float("nan")

    def add(self, other: "Outcomes") -> None:
        for name in ("known", "right", "missed", "wrong", "strangers", "strangers_accepted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Trial:
    """One enrolment: a gallery and probes with their true contact (-1: stranger)."""

    gallery: Gallery
    probes: np.ndarray
    truth: np.ndarray


def identification_trials(faces: LabeledFaces, repeats: int, refs: int, enrolled_share: float,
                          seed: int) -> list[Trial]:
    """Enrol `refs` photos of a random `enrolled_share` of the people; probe with
    their other photos and with every photo of the people left out."""
    people = sorted(set(faces.people))
    labels = np.array(faces.people)
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(repeats):
        order = rng.permutation(len(people))
        n_enrolled = int(round(enrolled_share * len(people)))
        ref_rows, ref_cids, probe_rows, truth = [], [], [], []
        for rank, k in enumerate(order):
            rows = np.flatnonzero(labels == people[k])
            if rank < n_enrolled:
                rows = rng.permutation(rows)
                n_refs = min(refs, len(rows) - 1)  # keep at least one unseen photo
                ref_rows += rows[:n_refs].tolist()
                ref_cids += [int(k)] * n_refs
                probe_rows += rows[n_refs:].tolist()
                truth += [int(k)] * (len(rows) - n_refs)
            else:
                probe_rows += rows.tolist()
                truth += [-1] * len(rows)
        gallery = Gallery.build(faces.embeddings[ref_rows], np.array(ref_cids, dtype=np.int64))
        trials.append(Trial(gallery, faces.embeddings[probe_rows], np.array(truth)))
    return trials


def identify(trials: list[Trial], threshold: float, margin: float) -> Outcomes:
    total = Outcomes()
    for trial in trials:
        for probe, truth in zip(trial.probes, trial.truth):
            match = match_faces(probe[None, :], trial.gallery, threshold, margin)[0]
            if truth < 0:
                total.strangers += 1
                total.strangers_accepted += match is not None
            else:
                total.known += 1
                if match is None:
                    total.missed += 1
                elif match.cid == truth:
                    total.right += 1
                else:
                    total.wrong += 1
    return total


def identification_grid(trials: list[Trial], thresholds: list[float], margins: list[float],
                        desc: str) -> dict[tuple[float, float], Outcomes]:
    grid = {}
    for margin in tqdm(margins, desc=desc, unit="margin", leave=False):
        for threshold in thresholds:
            grid[(threshold, margin)] = identify(trials, threshold, margin)
    return grid


# ---------------------------------------------------------------- clustering

def incremental_clustering(embeddings: np.ndarray, order: np.ndarray, pulls: int, threshold: float) -> np.ndarray:
    """Labels after feeding faces in `order`, split into `pulls` batches, each
    batch clustered by `clustering.assign` against everything before it (as
    `TimelineService.update_clusters` does on each pull_timeline)."""
    labels = np.full(len(embeddings), -1, dtype=np.int64)
    seen = np.zeros(0, dtype=np.int64)
    for batch in np.array_split(order, pulls):
        if not len(batch):
            continue
        labels[batch] = clustering.assign(embeddings[seen], labels[seen], embeddings[batch], threshold)
        seen = np.r_[seen, batch]
    return labels


@dataclass
class ClusteringRun:
    threshold: float
    pulls: int
    scores: list[ClusteringScore] = field(default_factory=list)

    def mean(self, name: str) -> float:
        return float(np.mean([getattr(s, name) for s in self.scores]))

    def worst(self, name: str) -> float:
        values = [getattr(s, name) for s in self.scores]
        return float(max(values) if name in ("mixed_clusters", "people_merged", "clusters_per_person") else min(values))


def clustering_sweep(faces: LabeledFaces, thresholds: list[float], pulls: list[int], orders: int,
                     seed: int, desc: str) -> dict[tuple[float, int], ClusteringRun]:
    """Every threshold x number of pulls, over `orders` seeded arrival orders."""
    rng = np.random.default_rng(seed)
    arrival = [rng.permutation(len(faces.people)) for _ in range(orders)]
    runs = {}
    for threshold in tqdm(thresholds, desc=desc, unit="threshold", leave=False):
        for n_pulls in pulls:
            run = ClusteringRun(threshold, n_pulls)
            for order in arrival:
                labels = incremental_clustering(faces.embeddings, order, n_pulls, threshold)
                run.scores.append(clustering_score(faces.people, labels))
            runs[(threshold, n_pulls)] = run
    return runs
