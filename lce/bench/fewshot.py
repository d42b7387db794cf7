"""Few-shot classification: N-way k-shot episodes with a prototype (nearest-centroid) classifier.

Each episode draws ``ways`` classes, ``shots`` support and ``queries`` query images per class
from a seeded stream; features are L2-normalized and every query goes to the class whose mean
support feature is nearest (SimpleShot, Wang et al. 2019). The score is the mean episode accuracy
with its 95% confidence interval, the way few-shot results are reported.
"""

from __future__ import annotations

import numpy as np

from lce.errors import LCEError


def ci95(accuracies: np.ndarray) -> float:
    """Half-width of the 95% confidence interval of the mean: 1.96 * s / sqrt(n)."""
    accuracies = np.asarray(accuracies, dtype=np.float64)
    if accuracies.size < 2:
        return 0.0
    return float(1.96 * accuracies.std(ddof=1) / np.sqrt(accuracies.size))


def prototype_accuracy(support: np.ndarray, query: np.ndarray) -> float:
    """Accuracy of nearest-prototype classification of ``query`` (W, Q, D) by ``support`` (W, S, D).

    Row w of both arrays holds class w, so the true class of every query is its row.
    """
    prototypes = support.mean(axis=1)  # (W, D)
    flat = query.reshape(-1, query.shape[-1])
    distances = ((flat[:, None, :] - prototypes[None]) ** 2).sum(axis=-1)
    truth = np.repeat(np.arange(query.shape[0]), query.shape[1])
    return float(np.mean(distances.argmin(axis=1) == truth))


def episode_accuracies(features: np.ndarray, labels: np.ndarray, ways: int, shots: int,
                       queries: int, episodes: int, seed: int) -> np.ndarray:
    """The accuracy of each of ``episodes`` seeded episodes."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    features = features / np.maximum(norms, 1e-12)
    classes = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    eligible = [m for m in classes if len(m) >= shots + queries]
    if len(eligible) < ways:
        raise LCEError(f"few-shot {ways}-way {shots}-shot: only {len(eligible)} classes have "
                       f"{shots + queries} images", hint="use more images per dataset "
                       "(bench.max_images) or fewer queries (bench.fewshot_queries)")
    rng = np.random.default_rng(seed)
    accuracies = np.empty(episodes)
    for e in range(episodes):
        chosen = rng.choice(len(eligible), size=ways, replace=False)
        picks = np.stack([rng.choice(eligible[c], size=shots + queries, replace=False)
                          for c in chosen])
        accuracies[e] = prototype_accuracy(features[picks[:, :shots]], features[picks[:, shots:]])
    return accuracies
