"""A face engine = detector + aligner + embedder, named by all three."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ..stopwatch import Stopwatch, stage
from .schemas import CHIP_SIZE, AlignedFace, AnalyzedFace, DetectedFace


class Detector(Protocol):
    identity: str

    def load(self) -> object: ...
    def detect(self, rgb: NDArray[np.uint8]) -> list[DetectedFace]: ...


class Aligner(Protocol):
    identity: str

    def load(self) -> object: ...
    def align(self, rgb: NDArray[np.uint8], face: DetectedFace) -> AlignedFace: ...


class Embedder(Protocol):
    identity: str

    def load(self) -> object: ...
    def embed(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]: ...


class FaceEngine:
    """Finds, aligns and embeds every face of an upright RGB image.

    `id` names the exact detector, aligner and embedder (with versions); it is
    stored with every embedding so that embeddings of different engines are
    never compared.
    """

    def __init__(self, name: str, detector: Detector, aligner: Aligner, embedder: Embedder,
                 min_face_px: int = 40, max_concurrent: int = 2) -> None:
        self.name = name
        self.detector = detector
        self.aligner = aligner
        self.embedder = embedder
        self.min_face_px = min_face_px
        self.id = f"{detector.identity}+{aligner.identity}+{embedder.identity}"
        # Bounds CPU work when many uploads arrive at once (2 cores here).
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def load(self) -> None:
        for model in (self.detector, self.aligner, self.embedder):
            model.load()

    def analyze(self, rgb: NDArray[np.uint8], stopwatch: Stopwatch | None = None) -> list[AnalyzedFace]:
        with self._slots:
            with stage(stopwatch, "detect"):
                detected = self.detector.detect(rgb)
            usable = [f for f in detected if min(f.box.w, f.box.h) >= self.min_face_px]
            with stage(stopwatch, "align"):
                aligned = [self.aligner.align(rgb, f) for f in usable]
            with stage(stopwatch, "embed"):
                embeddings = self.embedder.embed(np.stack([a.chip for a in aligned])) if aligned else []
        by_face = {id(f): (a, e) for f, a, e in zip(usable, aligned, embeddings)}
        results = []
        for face in detected:
            if id(face) in by_face:
                a, e = by_face[id(face)]
                results.append(AnalyzedFace(face.box, face.score, a.chip, np.asarray(e, dtype=np.float32)))
            else:
                results.append(AnalyzedFace(face.box, face.score, None, None))
        return results

    def embed_chips(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Re-embed stored chips (used when the engine changes)."""
        assert chips.ndim == 4 and chips.shape[1:] == (CHIP_SIZE, CHIP_SIZE, 3)
        with self._slots:
            return self.embedder.embed(chips)


def _dlib_engine(**options) -> FaceEngine:
    from .dlib_models import DlibResNetEmbedder, FivePointAligner, HogDetector

    return FaceEngine("dlib", HogDetector(), FivePointAligner(), DlibResNetEmbedder(), **options)


def _onnx_engine(cache_dir: Path | str | None = None, intra_op_threads: int | None = None, **options) -> FaceEngine:
    """dlib's detector and aligner (identical chips), dlib's descriptor on onnxruntime.

    `cache_dir` holds the converted model in `<cache_dir>/models/` (default: the
    user cache folder); `intra_op_threads` defaults to the measured best.
    """
    from .dlib_models import FivePointAligner, HogDetector
    from .onnx_models import DEFAULT_INTRA_OP_THREADS, OnnxResNetEmbedder

    embedder = OnnxResNetEmbedder(cache_dir, intra_op_threads or DEFAULT_INTRA_OP_THREADS)
    return FaceEngine("onnx", HogDetector(), FivePointAligner(), embedder, **options)


ENGINES: dict[str, Callable[..., FaceEngine]] = {"dlib": _dlib_engine, "onnx": _onnx_engine}
_cache: dict[tuple, FaceEngine] = {}
_cache_lock = threading.Lock()


def make_engine(name: str = "dlib", **options) -> FaceEngine:
    """One engine instance per (name, options) in the process: models load once."""
    if name not in ENGINES:
        raise ValueError(f"unknown face engine {name!r}; choose from {', '.join(sorted(ENGINES))}")
    key = (name, tuple(sorted(options.items())))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = ENGINES[name](**options)
        return _cache[key]
