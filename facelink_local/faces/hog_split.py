"""dlib's HOG face detector, its image pyramid scanned on two threads, with identical results.

`fhog_object_detector.run(image, 1)` doubles the image, builds a pyramid of
5/6 steps down to 64 px, scans every level with the frontal detector's five
filters, then keeps the best box of each overlapping group (non-maximum
suppression). It runs on one core; at 640x480 it is most of an upload's time.

`SplitHog` does the same work in two halves, by pyramid level:

- the calling thread scans levels 0..k-1 with a copy of the detector that
  stops after k levels;
- a worker thread builds levels k.. itself and scans each of them alone, with
  a copy that stops after one level;
- both copies keep every raw detection (their overlap test is switched off),
  and the suppression then runs here over both, as dlib runs it.

Every step is dlib's own arithmetic: dlib's pyramid_up and pyramid_down<6> are
bilinear resizes to the sizes computed below, which `dlib.resize_image` does
bit for bit; boxes found on level l are mapped back with dlib's
`pyramid_down(6).rect_up(box, l)` and rounded as dlib rounds. The boxes and
scores are those of `run()` (tests/test_hog_split.py compares both on real
photos). The one thing left to chance is the order of two detections with
exactly the same score, which dlib's unstable sort leaves unspecified too.

The detector copies are made from the detector's own serialized form
(`object_detector<scan_fhog_pyramid<pyramid_down<6>>>`, dlib's
`object_detector.h` and `scan_fhog_pyramid.h`), with only the level limit and
the overlap test changed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .dlib_dnn import DlibFormatError, _Stream

SPLIT_LEVEL = 2  # levels 0-1 of the doubled image are about half of the work (docs/engines.md)

Box = tuple[int, int, int, int]  # left, top, right, bottom (inclusive), as dlib.rectangle
Detection = tuple[Box, float]


# ---------------------------------------------------------------------------
# The serialized detector


def encode_int(value: int) -> bytes:
    """dlib's integer encoding: a control byte (byte count, 0x80 if negative), then little-endian bytes."""
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def encode_float(value: float) -> bytes:
    """dlib's float encoding: mantissa and base-2 exponent, as integers."""
    mantissa, exponent = math.frexp(value)
    return encode_int(int(mantissa * 2**53)) + encode_int(exponent - 53)


@dataclass(frozen=True)
class FhogDetectorFile:
    """Where the settings sit in a serialized frontal face detector, to write variants of it."""

    data: bytes
    max_levels: int
    min_layer: tuple[int, int]
    overlap: tuple[float, float]  # (match, covered) thresholds of dlib's test_box_overlap
    filters: int
    _max_levels_span: tuple[int, int]
    _overlap_span: tuple[int, int]

    @classmethod
    def parse(cls, data: bytes) -> "FhogDetectorFile":
        s = _Stream(data)
        s.expect_int(2, "object_detector version")
        s.expect_int(1, "scan_fhog_pyramid version")
        s.expect_int(0, "stored feature pyramid (max size)")
        s.expect_int(0, "stored feature pyramid (size)")
        for _ in range(4):  # cell size, padding, window width, window height
            s.int()
        start = s.pos
        max_levels = s.int()
        max_levels_span = (start, s.pos)
        min_layer = (s.int(), s.int())
        s.float()  # nuclear norm regularization strength
        s.int()  # feature dimensions
        start = s.pos
        overlap = (s.float(), s.float())
        overlap_span = (start, s.pos)
        filters = s.int()
        if not 1 <= filters <= 64:
            raise DlibFormatError(f"implausible number of filters: {filters}")
        return cls(data, max_levels, min_layer, overlap, filters, max_levels_span, overlap_span)

    def variant(self, max_levels: int, keep_overlapping: bool) -> bytes:
        """The same detector stopping after `max_levels` levels, optionally without suppression.

        dlib's overlap test says two boxes overlap when a ratio of areas is
        *above* a threshold; ratios are at most 1, so thresholds of 1 make it
        say "no" to every pair.
        """
        (a, b), (c, d) = self._max_levels_span, self._overlap_span
        overlap = (encode_float(1.0) * 2) if keep_overlapping else self.data[c:d]
        return self.data[:a] + encode_int(max_levels) + self.data[b:c] + overlap + self.data[d:]


def detector_from_state(state: bytes):
    """A `dlib.fhog_object_detector` from its serialized form (what pickling it stores)."""
    import dlib

    detector = dlib.fhog_object_detector.__new__(dlib.fhog_object_detector)
    detector.__setstate__((state,))
    return detector


# ---------------------------------------------------------------------------
# dlib's geometry, called from Python


def _round(value: float) -> int:
    return math.floor(value + 0.5)  # drectangle -> rectangle in dlib


def _area(box: Box) -> int:
    left, top, right, bottom = box
    return max(0, right - left + 1) * max(0, bottom - top + 1)


def boxes_overlap(a: Box, b: Box, match: float, covered: float) -> bool:
    """dlib's test_box_overlap."""
    inner = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    if inner == 0:
        return False
    outer = _area((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
    return inner / outer > match or inner / _area(a) > covered or inner / _area(b) > covered


def suppress(detections: list[Detection], match: float, covered: float) -> list[Detection]:
    """dlib's non-maximum suppression: best score first, drop what overlaps a kept box."""
    kept: list[Detection] = []
    for box, score in sorted(detections, key=lambda d: -d[1]):
        if not any(boxes_overlap(k, box, match, covered) for k, _ in kept):
            kept.append((box, score))
    return kept


# ---------------------------------------------------------------------------
# The detector


class SplitHog:
    """The frontal face detector's `run(rgb, upsample)`, its pyramid split over two threads.

    Not thread-safe (dlib detectors keep scratch buffers): one instance per
    concurrent caller. `executor` runs the lower levels; it needs one free
    worker per concurrent caller.
    """

    def __init__(self, state: bytes, executor: Executor, split_level: int = SPLIT_LEVEL) -> None:
        import dlib

        self.file = FhogDetectorFile.parse(state)
        self.split_level = split_level
        self.executor = executor
        self.whole = detector_from_state(state)
        self.top = detector_from_state(self.file.variant(split_level, keep_overlapping=True))
        self.level = detector_from_state(self.file.variant(1, keep_overlapping=True))
        self._down6 = dlib.pyramid_down(6)
        self._down2 = dlib.pyramid_down(2)

    def run(self, rgb: NDArray[np.uint8], upsample: int, split: bool = True) -> list[Detection]:
        """Boxes (in `rgb`'s pixels, may reach past its edges) and scores, best first.

        `split=False` runs dlib's `run()` on this thread alone (same result).
        """
        import dlib

        if upsample not in (0, 1):
            raise ValueError("upsample must be 0 or 1")
        if not split:
            rects, scores, _ = self.whole.run(rgb, upsample, 0.0)
            return [(_box(r), float(s)) for r, s in zip(rects, scores)]
        image = self.doubled(rgb) if upsample else rgb
        levels = self.pyramid_levels(image.shape[0], image.shape[1])
        if levels <= self.split_level:
            rects, scores, _ = self.whole.run(rgb, upsample, 0.0)
            return [((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)]

        lower = self.executor.submit(self._scan_levels, image, levels)
        rects, scores, _ = self.top.run(image, 0, 0.0)
        found = [((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)]
        found += lower.result()
        kept = suppress(found, *self.file.overlap)
        if upsample:
            back = self._down2.rect_down
            kept = [(_box(back(dlib.rectangle(*box))), score) for box, score in kept]
        return kept

    def doubled(self, rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """dlib's pyramid_up(rgb): a bilinear resize to pyramid_down<2>'s parent size."""
        import dlib

        height, width = rgb.shape[:2]
        parent = self._down2.rect_up(dlib.rectangle(0, 0, width - 1, height - 1))
        return dlib.resize_image(rgb, parent.bottom() + 1, parent.right() + 1)

    def pyramid_levels(self, height: int, width: int) -> int:
        """How many levels scan_fhog_pyramid::load() builds for an image of this size."""
        import dlib

        rect, levels = dlib.rectangle(0, 0, width - 1, height - 1), 0
        min_width, min_height = self.file.min_layer
        while True:
            rect = self._down6.rect_down(rect)
            levels += 1
            if not (rect.width() >= min_width and rect.height() >= min_height and levels < self.file.max_levels):
                return levels

    def _scan_levels(self, image: NDArray[np.uint8], levels: int) -> list[Detection]:
        """Levels split_level.. of `image`'s pyramid, each scanned alone, boxes mapped back to level 0."""
        import dlib

        found: list[Detection] = []
        level_image = image
        for level in range(1, levels):
            height, width = level_image.shape[:2]
            # pyramid_down<6>: a bilinear resize to 5/6 of the size, rounded down.
            level_image = dlib.resize_image(level_image, (5 * height) // 6, (5 * width) // 6)
            if level < self.split_level:
                continue
            rects, scores, _ = self.level.run(level_image, 0, 0.0)
            for r, score in zip(rects, scores):
                up = self._down6.rect_up(dlib.drectangle(r.left(), r.top(), r.right(), r.bottom()), level)
                box = (_round(up.left()), _round(up.top()), _round(up.right()), _round(up.bottom()))
                found.append((box, float(score)))
        return found


def _box(rect) -> Box:
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def machine_saturated() -> bool:
    """Whether the last minute's load average already fills every core (a second thread would gain nothing)."""
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1)
    except (AttributeError, OSError):  # no load average (Windows)
        return False


def stock_run(detector) -> Callable[..., list[Detection]]:
    """`run()` of a plain dlib detector, in SplitHog's result shape."""

    def run(rgb: NDArray[np.uint8], upsample: int, split: bool = False) -> list[Detection]:
        rects, scores, _ = detector.run(rgb, upsample, 0.0)
        return [(_box(r), float(s)) for r, s in zip(rects, scores)]

    return run
