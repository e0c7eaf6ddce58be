"""Synthetic embeddings shaped like the real ones, for the scale runs.

People's centres come from a Gaussian fitted (Ledoit-Wolf shrinkage) to the
real per-person mean embeddings; each face is its person's centre plus noise
from a Gaussian fitted to the real faces' offsets from their person's mean.
Real people differ in how much their photos vary, and some photos are
outliers, so the noise is scaled per person and per face by factors drawn
from the real ones (normalised so the overall spread is unchanged).
`compare` reports how close the synthetic distance distributions come to the
real ones, so the report can show it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.covariance import LedoitWolf

from facelink_local.recognition.distances import pairwise

from .photos import LabeledFaces


@dataclass
class FaceModel:
    centre_mean: np.ndarray
    centre_cov: np.ndarray
    noise_cov: np.ndarray
    person_scales: np.ndarray  # each real person's RMS offset / the pooled RMS offset
    face_scales: np.ndarray  # each real face's offset / its person's RMS offset

    @classmethod
    def fit(cls, faces: LabeledFaces) -> "FaceModel":
        labels = np.array(faces.people)
        names = sorted(set(faces.people))
        x = faces.embeddings.astype(np.float64)
        centres, offsets = [], []
        for name in names:
            rows = x[labels == name]
            centre = rows.mean(0)
            centres.append(centre)
            # A mean of n faces sits closer to them than the true centre: undo the shrink.
            n = len(rows)
            if n > 1:
                offsets.append((rows - centre) * np.sqrt(n / (n - 1)))
        centres = np.array(centres)
        noise = LedoitWolf().fit(np.vstack(offsets))
        spread = LedoitWolf().fit(centres)
        person_rms = np.array([np.sqrt((o ** 2).sum(1).mean()) for o in offsets])
        face_scales = np.concatenate([np.linalg.norm(o, axis=1) / r for o, r in zip(offsets, person_rms)])
        person_scales = person_rms / np.sqrt(np.mean(person_rms ** 2))
        face_scales = face_scales / np.sqrt(np.mean(face_scales ** 2))
        return cls(spread.location_, spread.covariance_, noise.covariance_, person_scales, face_scales)

    def save(self, path) -> None:
        np.savez(path, **{k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path) -> "FaceModel":
        saved = np.load(path)
        return cls(**{k: saved[k] for k in cls.__dataclass_fields__})

    def people(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(centres (count, D), noise scale of each person (count,))."""
        centres = rng.multivariate_normal(self.centre_mean, self.centre_cov, size=count, method="cholesky")
        return centres, rng.choice(self.person_scales, size=count)

    def faces(self, people: tuple[np.ndarray, np.ndarray], person: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        centres, scales = people
        noise = rng.multivariate_normal(np.zeros(len(self.noise_cov)), self.noise_cov, size=len(person),
                                        method="cholesky")
        noise *= (scales[person] * rng.choice(self.face_scales, size=len(person)))[:, None]
        return (centres[person] + noise).astype(np.float32)


def distance_quantiles(embeddings: np.ndarray, labels: np.ndarray, quantiles=(0.05, 0.5, 0.95),
                       max_faces: int = 3000, seed: int = 0) -> dict[str, list[float] | np.ndarray]:
    """Same-person and different-person distance quantiles (on up to `max_faces`),
    and the distances themselves (`same_d`, `different_d`) for a histogram."""
    if len(labels) > max_faces:
        keep = np.random.default_rng(seed).choice(len(labels), max_faces, replace=False)
        embeddings, labels = embeddings[keep], labels[keep]
    d = pairwise(embeddings, embeddings)
    i, j = np.triu_indices(len(labels), k=1)
    same = labels[i] == labels[j]
    return {
        "same": np.quantile(d[i[same], j[same]], quantiles).tolist(),
        "different": np.quantile(d[i[~same], j[~same]], quantiles).tolist(),
        "norm": np.quantile(np.linalg.norm(embeddings, axis=1), quantiles).tolist(),
        "same_d": d[i[same], j[same]], "different_d": d[i[~same], j[~same]],
    }


def synthetic_like(model: FaceModel, people: int, faces_per_person: float, total: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`total` faces of `people` people (Poisson-ish counts), in random order."""
    rng = np.random.default_rng(seed)
    drawn = model.people(people, rng)
    person = rng.integers(0, people, size=total)
    return model.faces(drawn, person, rng), person


def compare(model: FaceModel, real: LabeledFaces, seed: int = 0) -> dict[str, dict[str, list[float]]]:
    labels = np.array(real.people)
    n_people = len(set(real.people))
    embeddings, person = synthetic_like(model, n_people, len(labels) / n_people, len(labels), seed)
    return {
        "real": distance_quantiles(real.embeddings, labels),
        "synthetic": distance_quantiles(embeddings, person),
    }
