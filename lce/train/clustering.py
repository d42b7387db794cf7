"""DeepCluster's clustering step: PCA-whitening, L2-normalisation, k-means, empty clusters, and
the sampler that makes every cluster equally likely in the next training pass.

Each piece is a plain function of arrays and a seed, so the invariants the method depends on
(every non-empty cluster is sampled, equally often; no cluster stays empty when it can be filled)
are testable without a network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lce.errors import LCEError


def preprocess(features: np.ndarray, pca_dims: int, seed: int) -> np.ndarray:
    """PCA with whitening to ``pca_dims`` (0 = no PCA), then L2-normalise each row.

    Whitening gives every principal direction unit variance, so k-means does not split along the
    one or two directions of largest activation scale only (DeepCluster: 256 dims, whitened).
    """
    x = np.asarray(features, dtype=np.float64)
    if pca_dims:
        from sklearn.decomposition import PCA

        dims = min(pca_dims, x.shape[0], x.shape[1])
        x = PCA(n_components=dims, whiten=True, random_state=seed).fit_transform(x)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class Clustering:
    assignments: np.ndarray  # (N,) int64 in [0, k)
    centroids: np.ndarray  # (k, d); a refilled cluster's (and its donor's) is its members' mean
    inertia: float  # sum of squared distances of all points to their centroid
    n_empty: int  # clusters k-means left empty, counted before they were refilled
    n_split: int  # empty clusters refilled by splitting the largest one


def kmeans(x: np.ndarray, k: int, max_iter: int, seed: int, fit_fraction: float = 1.0,
           backend: str = "sklearn") -> Clustering:
    """k-means on rows of ``x``, fitted on a seeded ``fit_fraction`` of them, then assigning all.

    Empty clusters (possible when assigning points the fit never saw) are refilled by splitting
    the largest cluster, as DeepCluster's faiss clustering does. The backend is scikit-learn
    unless ``faiss`` is asked for: it is a params value, so switching it changes DVC's run-cache
    key, where picking it because it happens to be installed would change results silently.

    Not :func:`lce.analysis.stats.kmeans`: that one categorizes tens of models (batched over
    bootstrap replicates, best of several k-means++ starts); this one follows DeepCluster on
    thousands of features per cycle, where the refill rule is part of the method.
    """
    n = x.shape[0]
    if k < 2 or k > n:
        raise LCEError(f"k-means: k={k} must be between 2 and the number of points ({n})")
    rng = np.random.default_rng(seed)
    fit_rows = np.arange(n)
    if fit_fraction < 1.0:
        fit_rows = np.sort(rng.choice(n, size=max(k, int(round(n * fit_fraction))), replace=False))
    if backend == "faiss":
        centroids = _faiss_centroids(x[fit_rows], k, max_iter, seed)
    else:
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=k, n_init=1, max_iter=max_iter, random_state=seed,
                       algorithm="lloyd").fit(x[fit_rows])
        centroids = model.cluster_centers_.astype(np.float32)
    return assign_and_refill(x, centroids, rng)


def assign_and_refill(x: np.ndarray, centroids: np.ndarray,
                      rng: np.random.Generator) -> Clustering:
    """Assign every row to its nearest centroid, count and refill the empty clusters, and give
    each cluster the split touched (refilled and donor) its members' mean as centroid, so the
    inertia is measured to where the points now are, not to a stale centroid."""
    k = len(centroids)
    before = _assign(x, centroids)
    n_empty = int((np.bincount(before, minlength=k) == 0).sum())
    assignments, n_split = split_empty_clusters(x, before, k, rng)
    centroids = centroids.copy()
    moved = assignments != before
    for cluster in np.unique(np.concatenate([before[moved], assignments[moved]])):
        centroids[cluster] = x[assignments == cluster].mean(axis=0)
    inertia = float(((x - centroids[assignments]) ** 2).sum())
    return Clustering(assignments, centroids, inertia, n_empty, n_split)


def _faiss_centroids(x: np.ndarray, k: int, max_iter: int, seed: int) -> np.ndarray:
    try:
        import faiss
    except ImportError:
        raise LCEError("kmeans_backend: faiss is not installed (pip install faiss-cpu, "
                       "or use kmeans_backend: sklearn)") from None
    # faiss subsamples to 256 points per centroid by default; fit on all the rows it is given,
    # so kmeans_fraction alone says how many points the fit sees, as with scikit-learn
    model = faiss.Kmeans(x.shape[1], k, niter=max_iter, seed=seed, verbose=False,
                         max_points_per_centroid=len(x))
    model.train(np.ascontiguousarray(x, dtype=np.float32))
    return model.centroids


def _assign(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    distances = ((x ** 2).sum(1)[:, None] - 2 * x @ centroids.T
                 + (centroids ** 2).sum(1)[None, :])
    return distances.argmin(axis=1).astype(np.int64)


def split_empty_clusters(x: np.ndarray, assignments: np.ndarray, k: int,
                         rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Give each empty cluster the half of the largest cluster on one side of a random direction.

    Returns the new assignments and how many clusters were refilled; clusters stay empty only
    when no cluster has two points left to split.
    """
    assignments = assignments.copy()
    n_split = 0
    for empty in range(k):
        sizes = np.bincount(assignments, minlength=k)
        if sizes[empty] or sizes.max() < 2:
            continue
        members = np.flatnonzero(assignments == sizes.argmax())
        direction = rng.standard_normal(x.shape[1])
        order = members[np.argsort(x[members] @ direction, kind="stable")]
        assignments[order[len(order) // 2:]] = empty
        n_split += 1
    return assignments, n_split


def uniform_cluster_sample(assignments: np.ndarray, n_samples: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Indices for one training pass, drawn uniformly over the non-empty clusters.

    Each non-empty cluster gets ``n_samples // m`` or one more draws (m = non-empty clusters), so
    a big cluster cannot dominate the pass. A cluster with at least its quota of points is drawn
    without replacement; a smaller one is drawn *with* replacement, so some of its points repeat
    and some may be missed (DeepCluster's ``UnifLabelSampler`` does the same).
    """
    clusters = np.unique(assignments)
    base, extra = divmod(n_samples, len(clusters))
    quotas = np.full(len(clusters), base)
    quotas[rng.permutation(len(clusters))[:extra]] += 1
    picks = []
    for cluster, quota in zip(clusters, quotas, strict=True):
        members = np.flatnonzero(assignments == cluster)
        picks.append(rng.choice(members, size=quota, replace=quota > len(members)))
    return rng.permutation(np.concatenate(picks))
