"""Typed results that cross module boundaries in the face pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CHIP_SIZE = 150  # dlib's descriptor input: a 150x150 RGB chip aligned on 5 landmarks
EMBEDDING_DIM = 128


@dataclass(frozen=True)
class Box:
    """A face rectangle in the (EXIF-upright) image's pixel coordinates."""

    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class DetectedFace:
    box: Box
    score: float


@dataclass(frozen=True)
class AlignedFace:
    box: Box
    score: float
    landmarks: NDArray[np.float32]  # (5, 2) points in image coordinates
    chip: NDArray[np.uint8]  # (150, 150, 3) RGB


@dataclass(frozen=True)
class AnalyzedFace:
    """One face of a photo, ready for matching or storing.

    `embedding` is None for faces too small to trust: they are reported to the
    device but never matched or stored.
    """

    box: Box
    score: float
    chip: NDArray[np.uint8] | None
    embedding: NDArray[np.float32] | None

    @property
    def too_small(self) -> bool:
        return self.embedding is None
