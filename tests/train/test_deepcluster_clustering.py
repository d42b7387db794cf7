"""DeepCluster's clustering step on hand-made data with known answers: preprocessing, k-means,
empty-cluster splitting, the uniform sampler, NMI and per-cluster entropy."""

import math
import sys

import numpy as np
import pytest

from lce.errors import LCEError
from lce.train.clustering import (
    assign_and_refill,
    kmeans,
    preprocess,
    split_empty_clusters,
    uniform_cluster_sample,
)
from lce.train.metrics import cluster_label_entropy, clustering_metrics, nmi


def blobs(n_per=40, centers=((0, 0), (10, 0), (0, 10)), seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(c, 0.3, (n_per, 2)) for c in centers])
    return x, np.repeat(np.arange(len(centers)), n_per)


def test_preprocess_whitens_and_l2_normalises():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 10)) * np.arange(1, 11)
    out = preprocess(x, pca_dims=4, seed=0)
    assert out.shape == (200, 4)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, rtol=1e-5)
    # without PCA only the normalisation applies
    np.testing.assert_allclose(preprocess(x, 0, 0), x / np.linalg.norm(x, axis=1, keepdims=True),
                               rtol=1e-5)


def test_kmeans_recovers_separated_blobs_and_is_seeded():
    x, labels = blobs()
    first = kmeans(x.astype(np.float32), 3, max_iter=20, seed=1)
    assert nmi(first.assignments, labels) == pytest.approx(1.0)
    again = kmeans(x.astype(np.float32), 3, max_iter=20, seed=1)
    np.testing.assert_array_equal(first.assignments, again.assignments)
    assert first.inertia < 3 * len(x) * 0.3 ** 2 * 2


def test_partial_fit_still_assigns_every_point_and_leaves_no_cluster_empty():
    x, _ = blobs(n_per=100)
    result = kmeans(x.astype(np.float32), 12, max_iter=5, seed=0, fit_fraction=0.1)
    assert result.assignments.shape == (300,)
    assert np.bincount(result.assignments, minlength=12).min() > 0


def test_empty_clusters_are_counted_before_the_refill_and_get_a_fresh_centroid():
    x, _ = blobs()
    # the third centroid is far from every point: k-means would leave its cluster empty
    centroids = np.array([[0.0, 5.0], [10.0, 0.0], [100.0, 100.0]])
    result = assign_and_refill(x, centroids, np.random.default_rng(0))
    assert result.n_empty == 1 and result.n_split == 1
    assert np.bincount(result.assignments, minlength=3).min() > 0
    # refilled cluster 2 and its donor 0 are centred on their members; 1 kept its centroid
    for cluster in (0, 2):
        np.testing.assert_allclose(result.centroids[cluster],
                                   x[result.assignments == cluster].mean(axis=0))
    np.testing.assert_array_equal(result.centroids[1], centroids[1])
    expected = ((x - result.centroids[result.assignments]) ** 2).sum()
    assert result.inertia == pytest.approx(expected)
    assert result.inertia < len(x) * 30  # the stale (100, 100) centroid would give ~ 10^6


def test_no_empty_cluster_reports_zero():
    x, _ = blobs()
    result = kmeans(x.astype(np.float32), 3, max_iter=20, seed=0)
    assert result.n_empty == 0 and result.n_split == 0


def test_faiss_only_when_asked_and_a_clear_error_without_it(monkeypatch):
    x, labels = blobs()
    monkeypatch.setitem(sys.modules, "faiss", None)  # importing it now fails, as if not installed
    # the default never reaches for faiss
    assert nmi(kmeans(x.astype(np.float32), 3, 20, 0).assignments, labels) == pytest.approx(1.0)
    with pytest.raises(LCEError, match="kmeans_backend: faiss is not installed"):
        kmeans(x.astype(np.float32), 3, 20, 0, backend="faiss")


def test_k_out_of_range_is_a_clear_error():
    with pytest.raises(LCEError, match="k=5 must be between 2 and the number of points"):
        kmeans(np.zeros((4, 2), np.float32), 5, 10, 0)


def test_split_empty_clusters_fills_them_from_the_largest():
    x = np.arange(20, dtype=float).reshape(10, 2)
    assignments = np.array([0] * 8 + [1] * 2)
    out, n_split = split_empty_clusters(x, assignments, 4, np.random.default_rng(0))
    sizes = np.bincount(out, minlength=4)
    assert n_split == 2 and sizes.min() > 0 and sizes.sum() == 10
    assert (out[8:] == 1).all()  # the clusters that were not split keep their points


@pytest.mark.parametrize("n_samples", [300, 301, 7 * 13])
def test_sampler_draws_every_nonempty_cluster_uniformly(n_samples):
    # cluster sizes 1, 10, 100, 189 and cluster 2 empty
    assignments = np.repeat([0, 1, 3, 4], [1, 10, 100, 189])
    idx = uniform_cluster_sample(assignments, n_samples, np.random.default_rng(0))
    assert len(idx) == n_samples
    counts = np.bincount(assignments[idx], minlength=5)
    assert counts[2] == 0
    drawn = counts[[0, 1, 3, 4]]
    assert drawn.min() >= 1 and drawn.max() - drawn.min() <= 1
    # a cluster holding at least its quota is drawn without replacement
    big = idx[assignments[idx] == 4]
    assert len(np.unique(big)) == len(big)
    # a smaller one with replacement: its one point fills its whole quota
    assert counts[0] > 1 and len(np.unique(idx[assignments[idx] == 0])) == 1


def test_nmi_and_entropy_on_hand_made_partitions():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert nmi(np.array([5, 5, 7, 7, 9, 9]), labels) == pytest.approx(1.0)
    assert nmi(np.zeros(6, int), labels) == pytest.approx(0.0)
    # one pure cluster, one holding two classes equally: entropies 0 and 1 bit
    entropy = cluster_label_entropy(np.array([0, 0, 1, 1, 1, 1]), labels)
    np.testing.assert_allclose(entropy, [0.0, 1.0])
    # four classes equally in one cluster: log2(4) = 2 bits
    assert cluster_label_entropy(np.zeros(4, int), np.arange(4))[0] == pytest.approx(2.0)


def test_clustering_metrics_names_and_values():
    labels = np.array([0, 0, 1, 1])
    metrics = clustering_metrics(np.array([0, 0, 1, 1]), labels, k=3,
                                 previous=np.array([1, 1, 0, 0]))
    assert metrics["nmi_prev"] == pytest.approx(1.0)
    assert metrics["entropy_max"] == 0.0
    assert metrics["cluster_size_min"] == 0 and "clusters_empty" not in metrics
    assert "nmi_prev" not in clustering_metrics(labels, labels, 2, None)
    assert math.isclose(metrics["cluster_size_max"], 2)
