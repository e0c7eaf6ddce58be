"""dlib's HOG detector shared by concurrent uploads (FaceEngine runs two at once)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from facelink_local.faces.dlib_models import HogDetector


@pytest.mark.model
def test_concurrent_detections_agree_with_sequential_ones():
    # One dlib detector shared by two threads, on images of different sizes,
    # returned garbage boxes (scores ~1e37) on noise and segfaulted on photos.
    rng = np.random.default_rng(7)
    sizes = [(250, 250), (480, 640), (900, 1200), (333, 500)]
    images = [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for size in sizes]
    detector = HogDetector()
    expected = [detector.detect(image) for image in images]
    results: list[tuple[int, list]] = []

    def work(worker: int) -> None:
        for i in range(12):
            k = (worker + i) % len(images)
            results.append((k, detector.detect(images[k])))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 24
    assert all(found == expected[k] for k, found in results)
    assert detector._idle.qsize() <= 2  # one detector per concurrent caller, not per call
