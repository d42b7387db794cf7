"""Projecting the concept matrix (PCA) and grouping models into categories (k-means, elbow).

PCA is done on the raw normalised counts, not standardised: the paper's normalisation already puts
categories on a comparable scale, and standardising would give rare concepts seen in one model the
same weight as concepts every model has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lce.analysis.stats import kmeans
from lce.errors import LCEError

METHODS = ("kmeans", "agglomerative")


@dataclass
class Projection:
    coordinates: np.ndarray          # models x components
    loadings: np.ndarray             # components x concepts
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray


def pca(values: np.ndarray, n_components: int = 3) -> Projection:
    """Principal components via SVD of the centred matrix; each component's sign is fixed so its
    largest loading is positive (so repeated runs and machines agree)."""
    n_models = values.shape[0]
    if n_models < 2:
        raise LCEError("an embedding needs at least two models")
    centred = values - values.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(n_components, n_models - 1, vt.shape[0])
    signs = np.sign(vt[np.arange(k), np.abs(vt[:k]).argmax(axis=1)])
    signs[signs == 0] = 1
    loadings = vt[:k] * signs[:, None]
    variance = s**2 / (n_models - 1)
    total = variance.sum()
    return Projection(coordinates=centred @ loadings.T, loadings=loadings,
                      explained_variance=variance[:k],
                      explained_variance_ratio=variance[:k] / total if total > 0
                      else np.zeros(k))


def kmeans_inertias(values: np.ndarray, k_max: int, seed: int) -> list[float]:
    return [kmeans(values, k, seed)[1] for k in range(1, min(k_max, len(values)) + 1)]


def elbow(inertias: list[float]) -> int:
    """k at the elbow of a decreasing inertia curve: the point farthest below the chord from the
    first to the last point, both axes scaled to [0, 1] (the "kneedle" rule). Fewer than three
    points have no elbow: every model then gets its own category. A curve nowhere below its chord
    (a straight line: each k buys as much as the last) has no elbow either, so k = 1; the
    tolerance keeps rounding noise on such a line from choosing a k at random."""
    n = len(inertias)
    if n < 3:
        return n
    y = np.asarray(inertias, dtype=float)
    span = y[0] - y[-1]
    if span <= 0:
        return 1
    x = np.linspace(0, 1, n)
    y = (y - y[-1]) / span                 # 1 at k = 1, 0 at k = k_max
    below_chord = (1 - x) - y              # distance below the straight line from (0,1) to (1,0)
    if below_chord.max() <= 1e-9:
        return 1
    return int(np.argmax(below_chord)) + 1


def cluster(values: np.ndarray, k: int, clustering: str, seed: int,
            order_key: np.ndarray | None = None) -> np.ndarray:
    """Category labels 1..k, numbered in order of their models' mean ``order_key`` (PC1), so the
    numbering does not depend on the clustering's internal order."""
    if clustering not in METHODS:
        raise LCEError(f"unknown clustering method {clustering!r}",
                       hint=f"one of: {', '.join(METHODS)}")
    if not 1 <= k <= len(values):
        raise LCEError(f"k = {k} categories for {len(values)} models: "
                       f"k must be in 1..{len(values)}")
    if clustering == "kmeans":
        labels = kmeans(values, k, seed)[0]
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(n_clusters=k).fit_predict(values) if k > 1 else \
            np.zeros(len(values), dtype=int)
    key = values[:, 0] if order_key is None else order_key
    order = sorted(set(labels), key=lambda c: (key[labels == c].mean(), c))
    rank = {c: i + 1 for i, c in enumerate(order)}
    return np.array([rank[c] for c in labels])
