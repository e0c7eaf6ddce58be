"""Verification, open-set identification and clustering on labeled faces.

Identification calls the product's `match_faces` (one call per probe photo, as
an upload does) on a `Gallery` built as the hub builds it; clustering stores the
faces as loose faces in a real SQLite store and calls `TimelineService.pull`,
the code behind pull_timeline, pull after pull.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facelink_local.recognition.distances import pairwise
from facelink_local.recognition.matching import Gallery, match_faces
from facelink_local.services.gallery import embedding_to_blob
from facelink_local.services.timeline import TimelineService
from facelink_local.services.tuning import TuningService
from facelink_local.store import Store
from facelink_local.timefmt import iso, now_utc

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


def close_impostors(faces: LabeledFaces, threshold: float) -> list[tuple[float, Path, Path]]:
    """Different-person pairs of photos closer than `threshold`, closest first."""
    distances = pairwise(faces.embeddings, faces.embeddings)
    labels = np.array(faces.people)
    i, j = np.triu_indices(len(labels), k=1)
    close = (labels[i] != labels[j]) & (distances[i, j] < threshold)
    return sorted((float(distances[a, b]), faces.photos[a], faces.photos[b]) for a, b in zip(i[close], j[close]))


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
    names: list[str]  # contact id k is names[k]
    photos: list[Path]  # each probe's photo


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
        trials.append(Trial(gallery, faces.embeddings[probe_rows], np.array(truth), people,
                            [faces.photos[i] for i in probe_rows]))
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


def mistakes(trials: list[Trial], threshold: float, margin: float) -> Counter:
    """{(probe's person, contact it was taken for): count} over wrong contacts and strangers accepted."""
    found: Counter = Counter()
    for trial in trials:
        for probe, truth, photo in zip(trial.probes, trial.truth, trial.photos):
            match = match_faces(probe[None, :], trial.gallery, threshold, margin)[0]
            if match is not None and match.cid != truth:
                found[(photo.parent.name, trial.names[match.cid])] += 1
    return found


def identification_grid(trials: list[Trial], thresholds: list[float], margins: list[float],
                        desc: str) -> dict[tuple[float, float], Outcomes]:
    grid = {}
    for margin in tqdm(margins, desc=desc, unit="margin", leave=False):
        for threshold in thresholds:
            grid[(threshold, margin)] = identify(trials, threshold, margin)
    return grid


# ---------------------------------------------------------------- clustering

EVERY_FACE = 0  # a number of pulls: one pull_timeline after every face


def pulls_label(pulls: int) -> str:
    return "a pull per face" if pulls == EVERY_FACE else f"{pulls} pull{'s' if pulls > 1 else ''}"


class TimelineRun:
    """The product's `TimelineService` on a real SQLite `Store` in `folder`.

    Faces are inserted as loose faces (as `UploadService` stores unknown faces)
    and clustered by `TimelineService.pull`, the code behind pull_timeline,
    pull after pull. Face ids are the faces' row numbers + 1, so the clusters
    read back from the store map onto the labeled faces.
    """

    def __init__(self, folder: Path, engine_id: str) -> None:
        self.store = Store(folder / "clustering.db")
        self.tuning = TuningService(self.store)
        self.service = TimelineService(self.store, self.tuning, engine_id)
        self.engine_id = engine_id
        with self.store.write() as db:
            self.user = db["users"].insert({"username": "bench", "password_hash": "-",
                                            "created_at": iso(now_utc())}).last_pk

    def cluster(self, embeddings: np.ndarray, order: np.ndarray, pulls: int, threshold: float) -> np.ndarray:
        """Cluster labels of every face after the faces arrive in `order`, in
        `pulls` batches (EVERY_FACE: one face each), with a pull_timeline after each."""
        with self.store.write() as db:
            for table in ("faces", "clusters"):  # cluster_members go with them (ON DELETE CASCADE)
                db.execute(f"DELETE FROM {table} WHERE user_id = ?", [self.user])
        self.tuning.update(cluster_threshold=threshold, min_cluster_size=1)  # every cluster shown
        start = now_utc() - timedelta(days=1)  # well inside the retention period
        shown: set[str] = set()
        for batch in np.array_split(order, pulls or len(order)):
            with self.store.write() as db:
                db.conn.executemany(
                    "INSERT INTO faces (id, user_id, engine, embedding, seen_at, box, score, thumbnail, chip) "
                    "VALUES (?, ?, ?, ?, ?, '[0, 0, 100, 100]', 1.0, x'', x'')",
                    [(int(i) + 1, self.user, self.engine_id, embedding_to_blob(embeddings[i]),
                      iso(start + timedelta(seconds=int(i)))) for i in batch])
            shown |= set(self.service.pull(self.user))
        rows = self.store.read().execute("SELECT id, cluster_id FROM faces WHERE user_id = ?", [self.user]).fetchall()
        names = {name: k for k, name in enumerate(sorted({c for _, c in rows}))}
        labels = np.full(len(embeddings), -1, dtype=np.int64)
        for face_id, cluster_id in rows:
            labels[face_id - 1] = names[cluster_id]
        if (labels[order] < 0).any() or not set(names) <= shown:
            raise RuntimeError("pull_timeline left a face unclustered or a cluster unanswered")
        return labels

    def close(self) -> None:
        self.store.close()


@dataclass
class ClusteringRun:
    threshold: float
    pulls: int
    scores: list[ClusteringScore] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)

    def mean(self, name: str) -> float:
        return float(np.mean([getattr(s, name) for s in self.scores]))

    def worst(self, name: str) -> float:
        values = [getattr(s, name) for s in self.scores]
        return float(max(values) if name in ("mixed_clusters", "people_merged", "clusters_per_person") else min(values))


def clustering_sweep(faces: LabeledFaces, thresholds: list[float], pulls: list[int], orders: int,
                     seed: int, engine_id: str, desc: str) -> dict[tuple[float, int], ClusteringRun]:
    """Every threshold x number of pulls, over `orders` seeded arrival orders,
    through `TimelineService.pull` on a real store."""
    rng = np.random.default_rng(seed)
    arrival = [rng.permutation(len(faces.people)) for _ in range(orders)]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="facelink-quality-") as tmp:
        timeline = TimelineRun(Path(tmp), engine_id)
        try:
            with tqdm(total=len(thresholds) * len(pulls) * orders, desc=desc, unit="run", leave=False) as bar:
                for threshold in thresholds:
                    for n_pulls in pulls:
                        run = ClusteringRun(threshold, n_pulls)
                        for order in arrival:
                            labels = timeline.cluster(faces.embeddings, order, n_pulls, threshold)
                            run.scores.append(clustering_score(faces.people, labels))
                            run.labels.append(labels)
                            bar.update(1)
                        runs[(threshold, n_pulls)] = run
        finally:
            timeline.close()
    return runs


@dataclass
class MinSizeRow:
    min_cluster_size: int
    clusters_shown: float  # mean over arrival orders
    faces_hidden: float  # share of faces in clusters too small to be shown
    clusters_per_person: float  # shown clusters holding a face of the person, mean over people
    people_hidden: float  # people with no shown cluster at all


def min_cluster_size_effect(faces: LabeledFaces, run: ClusteringRun, sizes: list[int]) -> list[MinSizeRow]:
    """What `min_cluster_size` hides from the timeline, for the labels of `run`."""
    people = np.array(faces.people)
    rows = []
    for size in sizes:
        shown, hidden, per_person, gone = [], [], [], []
        for labels in run.labels:
            counts = np.bincount(labels)
            visible = counts[labels] >= size
            shown.append(int((counts >= size).sum()))
            hidden.append(float(1 - visible.mean()))
            person_clusters = [len(set(labels[(people == name) & visible].tolist())) for name in sorted(set(faces.people))]
            per_person.append(float(np.mean(person_clusters)))
            gone.append(sum(c == 0 for c in person_clusters))
        rows.append(MinSizeRow(size, float(np.mean(shown)), float(np.mean(hidden)), float(np.mean(per_person)),
                               float(np.mean(gone))))
    return rows
