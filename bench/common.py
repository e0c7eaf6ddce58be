"""Helpers shared by the benchmarks: the photo folder, percentiles, machine facts,
and synthetic embeddings that look like real ones."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def faces_dir() -> Path:
    configured = os.environ.get("FACELINK_SHARED_FACES")
    folder = Path(configured) if configured else REPO.parent / "shared" / "faces"
    if not (folder / "identities").is_dir():
        raise SystemExit(f"shared photo set not found at {folder} (set FACELINK_SHARED_FACES)")
    return folder


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=20, method="inclusive") if len(ordered) > 1 else ordered * 19
    return {"n": len(ordered), "p50": statistics.median(ordered), "p95": q[18], "max": ordered[-1]}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine() -> str:
    return f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def load_note() -> str:
    """The load average, read before a benchmark starts, and what it means for its wall times."""
    one, five, fifteen = os.getloadavg()
    cores = os.cpu_count() or 1
    verdict = ("the machine was otherwise idle" if one <= 0.75 * cores else
               "other work shared the cores: wall times are noisy, CPU times and ratios less so")
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} at the start ({verdict})"


def real_embeddings(engine, per_person: int = 2, people: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of real photos (largest face each) and their person labels."""
    from facelink_local.faces import decode_image

    vectors, labels = [], []
    folders = sorted(p for p in (faces_dir() / "identities").iterdir() if p.is_dir())[:people]
    for label, folder in enumerate(folders):
        for photo in sorted(folder.glob("*.jpg"))[:per_person]:
            faces = [f for f in engine.analyze(decode_image(photo.read_bytes(), 1600)) if not f.too_small]
            if faces:
                biggest = max(faces, key=lambda f: f.box.w * f.box.h)
                vectors.append(biggest.embedding)
                labels.append(label)
    return np.stack(vectors).astype(np.float32), np.array(labels)


class SyntheticFaces:
    """People's centres drawn from a Gaussian fitted to real people's centres,
    plus per-face noise at the measured same-person spread."""

    def __init__(self, embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> None:
        people = np.unique(labels)
        centres = np.stack([embeddings[labels == p].mean(0) for p in people])
        # Residuals from a mean of k photos underestimate the spread by sqrt((k-1)/k): undo that.
        residuals = np.concatenate([
            (embeddings[labels == p] - centres[i]) * np.sqrt(k / (k - 1))
            for i, p in enumerate(people) if (k := int((labels == p).sum())) > 1
        ])
        self.mean = centres.mean(0)
        self.centre_cov = np.cov(centres, rowvar=False) + 1e-6 * np.eye(centres.shape[1])
        self.noise_std = residuals.std(0)
        self.rng = np.random.default_rng(seed)
        self.real = (embeddings, labels)

    def sample(self, n_people: int, faces: int) -> tuple[np.ndarray, np.ndarray]:
        centres = self.rng.multivariate_normal(self.mean, self.centre_cov, size=n_people)
        labels = self.rng.integers(0, n_people, size=faces)
        noise = self.rng.normal(0, 1, (faces, len(self.mean))) * self.noise_std
        return (centres[labels] + noise).astype(np.float32), labels


def distance_medians(embeddings: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Median same-person and different-person distances (a realism check for synthetic data)."""
    from facelink_local.recognition.distances import pairwise

    d = pairwise(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    upper = np.triu(np.ones_like(same), 1).astype(bool)
    return float(np.median(d[same & upper])), float(np.median(d[~same & upper]))


def write_report(path: Path, text: str) -> None:
    """Write `text` (a "## " section or more) into `path`, keeping the file's other sections.

    A section of `text` replaces the file's section of the same heading; other
    sections of the file stay where they are, new ones go at the end, so each
    benchmark can rewrite its own part of docs/benchmarks.md.
    """
    def split(doc: str) -> tuple[str, dict[str, str]]:
        head, *parts = doc.split("\n## ")
        return head, {part.split("\n", 1)[0]: "## " + part.rstrip("\n") + "\n" for part in parts}

    old_head, old = split(path.read_text(encoding="utf-8")) if path.exists() else ("# Benchmarks\n", {})
    new_head, new = split("\n" + text if text.startswith("## ") else text)
    head = (new_head if new_head.strip() else old_head).rstrip("\n") + "\n"
    merged = {**old, **new}  # dict order: the file's sections first, new ones after
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join("\n" + body for body in merged.values()), encoding="utf-8")

