"""dlib's HOG detector with its pyramid split over two threads: the same boxes and scores as dlib."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from facelink_local.faces.dlib_dnn import _Stream
from facelink_local.faces.hog_split import (
    FhogDetectorFile,
    SplitHog,
    boxes_overlap,
    encode_float,
    encode_int,
    suppress,
)
from facelink_local.faces.image import decode_image


def test_dlib_encodings_round_trip():
    values = [0, 1, 255, 256, 3100, -5, 2**40]
    floats = [1.0, 0.5, 0.33008212188056446, -2.25, 1e-7]
    s = _Stream(b"".join(map(encode_int, values)) + b"".join(map(encode_float, floats)))
    assert [s.int() for _ in values] == values
    assert [s.float() for _ in floats] == floats


def test_suppression_keeps_the_best_of_each_overlapping_group():
    a, b, c = (0, 0, 79, 79), (10, 10, 89, 89), (200, 0, 279, 79)  # a and b overlap by 0.53
    assert boxes_overlap(a, b, 0.33, 0.79) and not boxes_overlap(a, c, 0.33, 0.79)
    assert not boxes_overlap(a, b, 1.0, 1.0)  # thresholds of 1 keep everything
    inner = (0, 0, 9, 9)  # inside a (small share of the union, all of itself), apart from b
    assert boxes_overlap(a, inner, 0.9, 0.79) and not boxes_overlap(b, inner, 0.33, 0.79)
    kept = suppress([(b, 1.0), (c, 0.5), (a, 2.0), (inner, 3.0)], 0.33, 0.79)
    assert kept == [(inner, 3.0), (b, 1.0), (c, 0.5)]  # a goes: it covers the better box


@pytest.fixture(scope="module")
def split_hog():
    import dlib

    with ThreadPoolExecutor(1) as executor:
        yield SplitHog(dlib.get_frontal_face_detector().__getstate__()[0], executor), dlib.get_frontal_face_detector()


@pytest.mark.model
def test_the_detector_file_is_read_and_varied(split_hog):
    split, _ = split_hog
    f = split.file
    assert (f.filters, f.max_levels, f.min_layer) == (5, 1000, (64, 64))
    assert f.overlap == pytest.approx((0.330, 0.789), abs=1e-3)
    varied = FhogDetectorFile.parse(f.variant(2, keep_overlapping=True))
    assert (varied.max_levels, varied.overlap, varied.filters, varied.min_layer) == (2, (1.0, 1.0), 5, (64, 64))
    assert FhogDetectorFile.parse(f.variant(1000, keep_overlapping=False)).data == f.data


def dlib_run(detector, rgb, upsample):
    rects, scores, _ = detector.run(rgb, upsample, 0.0)
    return [((r.left(), r.top(), r.right(), r.bottom()), s) for r, s in zip(rects, scores)]


@pytest.mark.model
def test_split_detection_equals_dlibs_on_noise_and_sizes(split_hog):
    split, whole = split_hog
    rng = np.random.default_rng(3)
    for shape in [(250, 250), (480, 640), (101, 77), (720, 1280)]:
        rgb = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        for upsample in (0, 1):
            assert split.run(rgb, upsample) == dlib_run(whole, rgb, upsample)


# Several faces (suppression across the two halves), small faces, large photos scanned
# without upsampling, photos without faces. The benchmark compares every photo.
EDGE = ["group_2faces_barack_obama_and_joe_biden.jpg", "group_5faces_annotated.jpg", "group_5faces_sitting.jpg",
        "group_6faces_annotated.jpg", "group_8faces_annotated.jpg", "group_crowd_about_20_small_faces.jpg",
        "group_selfie_angelina_jolie_and_others.jpg", "reflection_angelina_jolie.jpg",
        "exif_orientation_3_compreface_person_a.jpg", "small_320x240_barack_obama.jpg",
        "near_duplicate_lowres_240p_barack_obama.jpg", "no_face_park.jpg", "no_face_cats_large_2400x1600.jpg"]


@pytest.mark.faces
@pytest.mark.model
@pytest.mark.slow
def test_split_detection_equals_dlibs_on_real_photos(split_hog, shared_faces: Path, identities):
    split, whole = split_hog
    photos = [shared_faces / "edge" / name for name in EDGE]
    photos += [people[0] for people in list(identities.values())[::8]]
    faces = 0
    for photo in photos:
        rgb = decode_image(photo.read_bytes(), max_side=1600)
        upsample = 1 if rgb.shape[0] * rgb.shape[1] <= 1_100_000 else 0
        expected = dlib_run(whole, rgb, upsample)
        assert split.run(rgb, upsample) == expected, photo.name
        faces += len(expected)
    assert faces >= 35
