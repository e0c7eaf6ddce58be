"""The evaluation's metric functions and its clustering harness, on hand-made data with known answers."""

from __future__ import annotations

import pytest

from bench.metrics import (
    bcubed,
    clustering_score,
    equal_error_rate,
    pairwise_precision_recall,
    rates_at,
    tar_at_far,
)


def test_perfect_clustering_scores_one_whatever_the_label_names():
    truth = ["a", "a", "b", "b", "b"]
    predicted = [7, 7, 3, 3, 3]
    assert pairwise_precision_recall(truth, predicted) == (1.0, 1.0)
    assert bcubed(truth, predicted) == pytest.approx((1.0, 1.0, 1.0))
    score = clustering_score(truth, predicted)
    assert score.clusters_per_person == 1.0
    assert score.mixed_clusters == 0 and score.people_merged == 0


def test_one_person_split_in_two():
    # a a a a -> {1, 1} {2, 2}: precision stays perfect, recall drops.
    truth = ["a"] * 4
    predicted = [1, 1, 2, 2]
    precision, recall = pairwise_precision_recall(truth, predicted)
    assert precision == 1.0
    assert recall == pytest.approx(2 / 6)  # 2 of the 6 same-person pairs kept together
    bp, br, bf = bcubed(truth, predicted)
    assert bp == 1.0
    assert br == pytest.approx(0.5)  # each face's cluster holds half of its person
    assert bf == pytest.approx(2 * 0.5 / 1.5)
    assert clustering_score(truth, predicted).clusters_per_person == 2.0


def test_two_people_merged():
    # a a b -> one cluster: pairs (a,a) right, (a,b) x2 wrong.
    truth = ["a", "a", "b"]
    predicted = [0, 0, 0]
    precision, recall = pairwise_precision_recall(truth, predicted)
    assert precision == pytest.approx(1 / 3)
    assert recall == 1.0
    bp, br, _ = bcubed(truth, predicted)
    assert bp == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    assert br == 1.0
    score = clustering_score(truth, predicted)
    assert score.mixed_clusters == 1 and score.people_merged == 2


def test_mixed_example_by_hand():
    # truth  a a a b b c ; predicted 1 1 2 2 2 3
    # together pairs: (a0,a1) and (b3,b4) = 2; predicted pairs: 1 + 3 + 0 = 4; true pairs: 3 + 1 + 0 = 4
    truth = ["a", "a", "a", "b", "b", "c"]
    predicted = [1, 1, 2, 2, 2, 3]
    assert pairwise_precision_recall(truth, predicted) == pytest.approx((0.5, 0.5))
    # BCubed precision per face: a0 1, a1 1, a2 1/3, b3 2/3, b4 2/3, c 1
    # BCubed recall per face:    a0 2/3, a1 2/3, a2 1/3, b3 1, b4 1, c 1
    bp, br, _ = bcubed(truth, predicted)
    assert bp == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3 + 1) / 6)
    assert br == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1 + 1) / 6)
    score = clustering_score(truth, predicted)
    assert score.clusters == 3 and score.people == 3
    assert score.clusters_per_person == pytest.approx(4 / 3)  # a in 2, b in 1, c in 1
    assert score.mixed_clusters == 1 and score.people_merged == 2  # cluster 2 holds a and b


def test_singletons_have_no_pairs_to_get_wrong():
    assert pairwise_precision_recall(["a", "b", "c"], [0, 1, 2]) == (1.0, 1.0)


def test_equal_error_rate_where_the_curves_cross():
    genuine = [0.1, 0.2, 0.3, 0.4]
    impostor = [0.35, 0.5, 0.6, 0.7]
    # Just above 0.35: one genuine pair (0.4) rejected, one impostor (0.35) accepted: 1/4 each.
    eer, threshold = equal_error_rate(genuine, impostor)
    assert eer == pytest.approx(0.25)
    assert 0.35 < threshold <= 0.4


def test_separable_scores_have_zero_error():
    eer, threshold = equal_error_rate([0.1, 0.2], [0.5, 0.6])
    assert eer == 0.0
    assert 0.2 < threshold <= 0.5
    assert rates_at([0.1, 0.2], [0.5, 0.6], 0.4) == {
        "tar": 1.0, "far": 0.0, "accuracy": 1.0, "balanced_accuracy": 1.0}


def test_true_accept_rate_at_a_false_accept_rate():
    genuine = [0.1, 0.2, 0.3, 0.45, 0.55]
    impostor = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    # FAR 0 allows thresholds up to 0.4: genuine 0.1, 0.2, 0.3 accepted.
    assert tar_at_far(genuine, impostor, 0.0) == (pytest.approx(0.6), pytest.approx(0.4))
    # FAR 0.1 allows one impostor: threshold 0.5 accepts 0.4 and the genuine 0.45.
    assert tar_at_far(genuine, impostor, 0.1) == (pytest.approx(0.8), pytest.approx(0.5))


def test_the_clustering_harness_reads_back_what_pull_timeline_made(tmp_path):
    # bench.recognition.TimelineRun drives the real TimelineService on a real store.
    import numpy as np

    from bench.photos import LabeledFaces
    from bench.recognition import EVERY_FACE, TimelineRun, clustering_sweep, min_cluster_size_effect
    from test_recognition import people

    faces, truth = people(3, 6, spread=0.3)
    run = TimelineRun(tmp_path, "engine-under-test")
    order = np.random.default_rng(0).permutation(len(faces))
    for pulls in (1, 4, EVERY_FACE):
        labels = run.cluster(faces, order, pulls, threshold=0.6)
        assert clustering_score(truth, labels).pairwise_precision == 1.0
        assert len(set(labels.tolist())) == 3
    assert run.tuning.current.cluster_threshold == 0.6
    run.close()

    labeled = LabeledFaces(faces, [f"p{t}" for t in truth], [tmp_path] * len(truth), [], [])
    sweep = clustering_sweep(labeled, [0.6], [2], orders=1, seed=0, engine_id="e", desc="test")
    (row_1, row_7) = min_cluster_size_effect(labeled, sweep[(0.6, 2)], [1, 7])
    assert (row_1.clusters_shown, row_1.faces_hidden, row_1.people_hidden) == (3, 0.0, 0)
    assert (row_7.clusters_shown, row_7.faces_hidden, row_7.people_hidden) == (0, 1.0, 3)
