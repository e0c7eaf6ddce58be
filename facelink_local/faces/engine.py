"""A face engine = detector + aligner + embedder, named by all three."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ..stopwatch import Stopwatch, stage
from .schemas import CHIP_SIZE, AlignedFace, AnalyzedFace, Box, DetectedFace

# A photo without a face may be a sideways or upside-down one (a camera turned, no EXIF tag).
# Each other way up is glanced at on a small copy, without upsampling (about 12 ms a turn at
# 480 px on this machine), and only a clear face (the HOG score of the wrong turn of a face is
# about 0.2; of a face the right way up, 1.5 or more) has the photo turned and analysed again.
GLANCE_SIDE = 480
GLANCE_MIN_SIDE = 80  # HOG's window without upsampling
GLANCE_MIN_SCORE = 0.8
TURNS = (1, 3, 2)  # quarter turns counter-clockwise: sideways either way first, then upside down


@dataclass(frozen=True)
class Analysis:
    """The faces of a photo, and how it was turned to find them."""

    faces: list[AnalyzedFace]
    turns: int                 # quarter turns counter-clockwise (np.rot90) made before detection
    image: NDArray[np.uint8]   # the photo as the faces were found in it (turned, if turns)

    def in_photo(self, face: AnalyzedFace) -> AnalyzedFace:
        """`face` with its box in the photo as it was given."""
        if not self.turns:
            return face
        return replace(face, box=box_before_turns(face.box, self.turns, self.image.shape[1], self.image.shape[0]))


def box_before_turns(box: Box, turns: int, width: int, height: int) -> Box:
    """`box` of a picture (width x height) made by `turns` np.rot90 turns, in the picture before them."""
    x0, y0, x1, y1 = box.x, box.y, box.x + box.w, box.y + box.h
    for _ in range(turns % 4):  # undo one counter-clockwise turn: (u, v) came from (height - v, u)
        x0, y0, x1, y1 = height - y1, x0, height - y0, x1
        width, height = height, width
    return Box(x0, y0, x1 - x0, y1 - y0)


class Detector(Protocol):
    identity: str

    def load(self) -> object: ...
    def detect(self, rgb: NDArray[np.uint8], upsample: bool = True) -> list[DetectedFace]: ...


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

    def analyze_any_way_up(self, rgb: NDArray[np.uint8], stopwatch: Stopwatch | None = None) -> Analysis:
        """`analyze`, and when it finds no face at all, again on the photo turned the way a glance
        finds a clear face (see GLANCE_SIDE)."""
        faces = self.analyze(rgb, stopwatch)
        if faces:
            return Analysis(faces, 0, rgb)
        with stage(stopwatch, "detect"):
            turns = self.turns_to_a_face(rgb)
        if not turns:
            return Analysis(faces, 0, rgb)
        turned = np.ascontiguousarray(np.rot90(rgb, turns))
        return Analysis(self.analyze(turned, stopwatch), turns, turned)

    def turns_to_a_face(self, rgb: NDArray[np.uint8]) -> int:
        """Quarter turns (np.rot90) that show a clear face in a glance at `rgb`; 0 if none does."""
        small = _shrunk(rgb, GLANCE_SIDE)
        if min(small.shape[:2]) < GLANCE_MIN_SIDE:  # no face a glance could find fits in it
            return 0
        with self._slots:
            for turns in TURNS:
                found = self.detector.detect(np.ascontiguousarray(np.rot90(small, turns)), upsample=False)
                if any(f.score >= GLANCE_MIN_SCORE for f in found):
                    return turns
        return 0

    def embed_chips(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Re-embed stored chips (used when the engine changes)."""
        assert chips.ndim == 4 and chips.shape[1:] == (CHIP_SIZE, CHIP_SIZE, 3)
        with self._slots:
            return self.embedder.embed(chips)


def _shrunk(rgb: NDArray[np.uint8], side: int) -> NDArray[np.uint8]:
    import cv2

    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


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
