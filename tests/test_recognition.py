"""Matching, clustering and pattern choice on hand-made embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from facelink_local.recognition import clustering
from facelink_local.recognition.matching import Gallery, match_faces
from facelink_local.recognition.patterns import (
    MAX_PATTERN, candidates, hamming, most_distinct_pattern, pattern_to_slots, slots_to_pattern,
)


def unit(*values) -> np.ndarray:
    v = np.zeros(128, np.float32)
    v[: len(values)] = values
    return v


@pytest.fixture
def gallery() -> Gallery:
    # Contact 1 near x, contact 2 near y, contact 3 close to contact 1 (an ambiguous look-alike).
    embeddings = np.stack([unit(1), unit(1.05), unit(0, 1), unit(0.9, 0.3)])
    return Gallery.build(embeddings, np.array([1, 1, 2, 3]))


def test_close_and_unambiguous_faces_match(gallery):
    (match,) = match_faces(np.stack([unit(0, 1.1)]), gallery, threshold=0.5, margin=0.05)
    assert match.cid == 2 and match.distance == pytest.approx(0.1, abs=1e-5)


def test_far_faces_are_strangers(gallery):
    assert match_faces(np.stack([unit(5, 5)]), gallery, threshold=0.5, margin=0.05) == [None]


def test_ambiguous_faces_are_not_matched(gallery):
    # Equally close to contacts 1 and 3: the margin refuses to guess.
    probe = np.stack([unit(0.95, 0.15)])
    assert match_faces(probe, gallery, threshold=0.5, margin=0.05) == [None]
    assert match_faces(probe, gallery, threshold=0.5, margin=0.0)[0] is not None


def test_a_contact_matches_one_face_per_photo(gallery):
    results = match_faces(np.stack([unit(1.2), unit(1.01)]), gallery, threshold=0.5, margin=0.0)
    assert results[0] is None and results[1].cid == 1  # the closer face keeps the contact


def test_empty_gallery_and_no_probes():
    empty = Gallery(np.zeros((0, 128), np.float32), np.zeros(0, np.int64))
    assert match_faces(np.stack([unit(1)]), empty, 0.5, 0.05) == [None]
    assert match_faces(np.zeros((0, 128), np.float32), empty, 0.5, 0.05) == []


def people(n_people: int, per_person: int, spread: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.12, (n_people, 128)).astype(np.float32)
    labels = np.repeat(np.arange(n_people), per_person)
    noise = rng.normal(0, spread / np.sqrt(128), (len(labels), 128)).astype(np.float32)
    return centres[labels] + noise, labels


def test_incremental_assignment_joins_existing_groups():
    faces, truth = people(5, 6, spread=0.3)
    first = clustering.assign(np.zeros((0, 128), np.float32), np.zeros(0, np.int64), faces[::2], 0.6)
    later = clustering.assign(faces[::2], first, faces[1::2], 0.6)
    assert later.max() <= first.max()  # nobody new: every later face joined a group
    labels = np.empty(len(faces), np.int64)
    labels[::2], labels[1::2] = first, later
    for person in range(5):
        assert len(set(labels[truth == person])) == 1
    assert len(set(labels)) == 5


def test_inherit_ids_keeps_ids_of_surviving_groups():
    old = ["a", "a", "a", "b", "b", "c", "c", None]
    new = np.array([0, 0, 1, 2, 2, 2, 2, 3])
    # group 0 holds 2/3 of "a": keeps it. Group 2 holds all of "b" and "c": a merge, new id.
    assert clustering.inherit_ids(old, new) == {0: "a"}


def test_patterns_roundtrip_and_distinctness():
    assert pattern_to_slots(slots_to_pattern([True, False, True])) [:3] == [True, False, True]
    assert slots_to_pattern(pattern_to_slots(MAX_PATTERN)) == MAX_PATTERN
    chosen: list[int] = []
    for _ in range(8):
        pattern = most_distinct_pattern(chosen)
        assert 0 < pattern <= MAX_PATTERN and pattern not in chosen
        chosen.append(pattern)
    assert min(hamming(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1:]) >= 4
    assert all(0 < c <= MAX_PATTERN for c in candidates())
