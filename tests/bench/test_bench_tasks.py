"""Benchmark protocols on synthetic features with known answers (lce.bench)."""

import numpy as np
import pytest

from lce.bench.dense import dense_miou, mean_iou
from lce.bench.fewshot import ci95, episode_accuracies, prototype_accuracy
from lce.bench.linear import linear_accuracy, stratified_split
from lce.bench.localization import box_iou, localization_scores
from lce.errors import LCEError

C_GRID = (0.01, 0.1, 1.0)


def separable(n_per_class=60, classes=10, dim=32, seed=0):
    """Features whose first ``classes`` dimensions are a noisy one-hot of the label."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class)
    features = rng.normal(0, 0.1, (len(labels), dim)).astype(np.float32)
    features[np.arange(len(labels)), labels] += 3.0
    return features, labels


def random_features(n_per_class=60, classes=10, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_per_class * classes, dim)).astype(np.float32),
            np.repeat(np.arange(classes), n_per_class))


def test_stratified_split_is_disjoint_seeded_and_proportional():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    split = stratified_split(labels, 0.3, 0.2, seed=4)
    together = np.concatenate([split.train, split.val, split.test])
    assert sorted(together) == list(range(100))
    assert np.bincount(labels[split.test]).tolist() == [15, 9, 6]
    assert np.bincount(labels[split.val]).tolist() == [10, 6, 4]
    assert stratified_split(labels, 0.3, 0.2, seed=4).test.tolist() == split.test.tolist()
    assert stratified_split(labels, 0.3, 0.2, seed=5).test.tolist() != split.test.tolist()


def test_linear_probe_separable_features_score_100_percent():
    features, labels = separable()
    assert linear_accuracy(features, labels, C_GRID, 0.3, 0.2, seed=0) == pytest.approx(1.0)
    # an untrained deep network's features can be ~1e-9 in size: scale must not matter
    tiny = features * 1e-9
    assert linear_accuracy(tiny, labels, C_GRID, 0.3, 0.2, seed=0) == pytest.approx(1.0)


def test_linear_probe_random_features_score_chance():
    features, labels = random_features()
    accuracy = linear_accuracy(features, labels, C_GRID, 0.3, 0.2, seed=0)
    assert 0.02 <= accuracy <= 0.2  # chance is 0.1 on 180 test items


def test_linear_probe_handles_two_classes_and_rejects_one():
    features, labels = separable(classes=2)
    assert linear_accuracy(features, labels, C_GRID, 0.3, 0.2, seed=0) == pytest.approx(1.0)
    with pytest.raises(LCEError, match="fewer than two classes"):
        linear_accuracy(features, np.zeros_like(labels), C_GRID, 0.3, 0.2, seed=0)


def test_ci95_is_1_96_sample_standard_deviations_over_root_n():
    accuracies = np.array([0.2, 0.4, 0.6, 0.8])
    sample_std = np.sqrt((0.3**2 + 0.1**2 + 0.1**2 + 0.3**2) / 3)
    assert ci95(accuracies) == pytest.approx(1.96 * sample_std / 2)
    assert ci95(np.full(600, 0.5)) == 0.0


def test_prototype_classifier_on_a_hand_made_episode():
    support = np.array([[[0.0, 0.0], [0.0, 2.0]], [[10.0, 0.0], [10.0, 2.0]]])  # means (0,1),(10,1)
    query = np.array([[[1.0, 1.0], [6.0, 1.0]], [[9.0, 1.0], [4.0, 1.0]]])
    assert prototype_accuracy(support, query) == pytest.approx(0.5)  # 6 and 4 are misplaced


@pytest.mark.parametrize("shots", [1, 5, 20])
def test_fewshot_separable_features_are_perfect_and_random_ones_at_chance(shots):
    features, labels = separable()
    perfect = episode_accuracies(features, labels, 5, shots, 15, 600, seed=1)
    assert len(perfect) == 600 and perfect.mean() == pytest.approx(1.0)
    features, labels = random_features()
    chance = episode_accuracies(features, labels, 5, shots, 15, 600, seed=1)
    assert abs(chance.mean() - 0.2) < 0.03  # 5-way chance
    assert ci95(chance) < 0.02
    again = episode_accuracies(features, labels, 5, shots, 15, 600, seed=1)
    assert np.array_equal(chance, again)


def test_fewshot_needs_enough_classes_with_enough_images():
    features, labels = separable(n_per_class=10, classes=4)
    with pytest.raises(LCEError, match="only 0 classes have 20 images"):
        episode_accuracies(features, labels, 5, 5, 15, 10, seed=0)


def test_mean_iou_known_answer():
    truth = np.array([[0, 0, 1, 1], [0, 0, 2, 2]])
    predicted = np.array([[0, 1, 1, 1], [0, 0, 2, 0]])
    # class 0: I=3, U=5; class 1: I=2, U=3; class 2: I=1, U=2
    assert mean_iou(truth, predicted) == pytest.approx((3 / 5 + 2 / 3 + 1 / 2) / 3)
    assert mean_iou(truth, truth) == 1.0


def planted_scenes(n=40, coarse=4, scale=8, seed=0):
    """Feature maps whose channel k marks where class k lies on a coarse grid; labels (0 for
    unlabelled, concepts 7 and 9) are the same layout upsampled ``scale`` times."""
    rng = np.random.default_rng(seed)
    layout = rng.integers(0, 3, (n, coarse, coarse))
    maps = np.stack([(layout == k) for k in range(3)], axis=1).astype(np.float32) * 4
    maps += rng.normal(0, 0.05, maps.shape).astype(np.float32)
    labels = np.array([0, 7, 9])[layout].repeat(scale, axis=1).repeat(scale, axis=2)
    return maps, labels.astype(np.int32)


def test_dense_probe_recovers_planted_segmentation():
    maps, labels = planted_scenes()
    idx = np.arange(len(maps))
    miou = dense_miou(maps, labels, idx[:20], idx[20:28], idx[28:], C_GRID, 64, seed=0)
    assert miou > 0.85  # only pixels next to a region border are interpolated ambiguously


def test_dense_probe_ignores_unlabelled_pixels():
    """Label 0 is no class: where unlabelled regions look like a random one of the concepts
    (as unannotated stuff does), neither training nor the score over the concepts suffers."""
    maps, labels = planted_scenes()
    rng = np.random.default_rng(2)
    unlabelled = labels[:, ::8, ::8] == 0
    looks_like = rng.integers(1, 3, unlabelled.shape)
    for k in (1, 2):
        maps[:, k][unlabelled] = 4.0 * (looks_like[unlabelled] == k)
    maps[:, 0] = rng.normal(0, 0.05, maps[:, 0].shape)  # no channel marks unlabelled pixels
    idx = np.arange(len(maps))
    miou = dense_miou(maps, labels, idx[:20], idx[20:28], idx[28:], C_GRID, 64, seed=0)
    assert miou > 0.85  # scored as a background class, 0 would bring it under 0.5


def test_dense_probe_needs_labelled_pixels():
    maps, labels = planted_scenes()
    idx = np.arange(len(maps))
    labels[28:] = 0
    with pytest.raises(LCEError, match="held-out images have no labelled pixels"):
        dense_miou(maps, labels, idx[:20], idx[20:28], idx[28:], C_GRID, 64, seed=0)


def test_dense_probe_on_random_features_is_poor():
    maps, labels = planted_scenes()
    noise = np.random.default_rng(1).normal(size=maps.shape).astype(np.float32)
    idx = np.arange(len(maps))
    assert dense_miou(noise, labels, idx[:20], idx[20:28], idx[28:], C_GRID, 64, seed=0) < 0.45


def test_dense_probe_counts_labels_unseen_in_training_as_missed():
    maps, labels = planted_scenes()
    labels[30:, :8, :8] = 42  # a label only the test images have
    idx = np.arange(len(maps))
    miou = dense_miou(maps, labels, idx[:20], idx[20:28], idx[28:], C_GRID, 64, seed=0)
    assert miou < 0.8  # four classes in the test images, one of them never predicted


def test_box_iou_known_values():
    a = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.2, 0.2]])
    b = np.array([[0.0, 0.0, 0.5, 1.0], [0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 1.0, 1.0]])
    assert box_iou(a, b).tolist() == pytest.approx([0.5, 1.0, 0.0])


def test_localization_recovers_boxes_planted_in_the_features():
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 0.5, (60, 2))
    boxes = np.column_stack([corner, corner + rng.uniform(0.2, 0.5, (60, 2))])
    maps = rng.normal(0, 0.01, (60, 6, 4, 4)).astype(np.float32)
    maps[:, :4] += boxes[:, :, None, None].astype(np.float32)  # channel j holds coordinate j
    boxes[5] = np.nan  # an image without any object is left out
    idx = np.arange(60)
    planted = localization_scores(maps, boxes, idx[:30], idx[30:40], idx[40:], (0.1, 1.0), 2)
    assert planted["mean_iou"] > 0.9 and planted["corloc"] == 1.0
    noise = rng.normal(size=maps.shape).astype(np.float32)
    random = localization_scores(noise, boxes, idx[:30], idx[30:40], idx[40:], (0.1, 1.0), 2)
    assert random["mean_iou"] < 0.6
