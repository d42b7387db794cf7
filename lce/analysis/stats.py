"""Correlations and k-means in plain numpy.

``lce categorize`` and ``lce correlate`` are interactive commands: importing scikit-learn and
scipy.stats costs seconds, far more than the arithmetic on a few dozen models. These small,
exact implementations keep the commands fast; the tests check them against scipy and
scikit-learn.
"""

from __future__ import annotations

import math

import numpy as np


def student_t_two_sided_p(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with integer ``df`` (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:
        series, term = 0.0, 1.0
        for k in range(1, (df - 1) // 2):
            series += term
            term *= 2 * k / (2 * k + 1) * c2
        series += term if df > 1 else 0.0
        inside = 2 / math.pi * (theta + (math.sin(theta) * math.cos(theta) * series
                                         if df > 1 else 0.0))
    else:
        series, term = 0.0, 1.0
        for k in range(1, df // 2 + 1):
            series += term
            term *= (2 * k - 1) / (2 * k) * c2
        inside = math.sin(theta) * series
    return min(1.0, max(0.0, 1.0 - inside))


def pearson(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(r, two-sided p) as scipy.stats.pearsonr, for n >= 3 and non-constant inputs."""
    x, y = x - x.mean(), y - y.mean()
    r = float(np.clip((x @ y) / math.sqrt((x @ x) * (y @ y)), -1.0, 1.0))
    df = len(x) - 2
    if abs(r) == 1.0:
        return r, 0.0
    return r, student_t_two_sided_p(r * math.sqrt(df / (1 - r * r)), df)


def ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), 1-based."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)                  # 1-based rank of each distinct value's last copy
    return ((last - counts + 1 + last) / 2)[inverse.reshape(-1)]


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(rho, two-sided p) as scipy.stats.spearmanr: Pearson on ranks, t-approximation p."""
    return pearson(ranks(x), ranks(y))


def _greedy_kmeans_plus_plus(values: np.ndarray, k: int, rng) -> np.ndarray:
    """Greedy k-means++ seeding (as scikit-learn): of ``2 + log k`` candidates drawn in
    proportion to the squared distance, keep the one that lowers the potential most."""
    n = len(values)
    trials = 2 + int(math.log(k))
    sq = (values**2).sum(axis=1)

    def sq_dist(rows):   # squared distances of every point to values[rows], (n, len(rows))
        return np.maximum(sq[:, None] + sq[rows][None, :] - 2 * values @ values[rows].T, 0)

    first = rng.integers(n)
    centres = [first]
    closest = sq_dist([first])[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:
            centres.append(rng.integers(n))
            continue
        candidates = rng.choice(n, size=trials, p=closest / total)
        options = np.minimum(closest[:, None], sq_dist(candidates))
        best = int(np.argmin(options.sum(axis=0)))
        centres.append(candidates[best])
        closest = options[:, best]
    return values[centres].astype(float)


def kmeans(values: np.ndarray, k: int, seed: int, n_init: int = 10,
           max_iter: int = 300) -> tuple[np.ndarray, float]:
    """(labels, inertia) of the best of ``n_init`` k-means++ runs (Lloyd iterations)."""
    rng = np.random.default_rng(seed)
    sq = (values**2).sum(axis=1)
    best_labels, best_inertia = None, math.inf
    for _ in range(n_init):
        centres = _greedy_kmeans_plus_plus(values, k, rng)
        labels = None
        for _ in range(max_iter):
            d2 = sq[:, None] - 2 * values @ centres.T + (centres**2).sum(axis=1)[None, :]
            new = d2.argmin(axis=1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            members = np.eye(k)[labels]                  # one-hot (n, k)
            counts = members.sum(axis=0)
            filled = counts > 0                           # an empty cluster keeps its centre
            centres[filled] = (members.T @ values)[filled] / counts[filled, None]
        inertia = float(((values - centres[labels]) ** 2).sum())
        if inertia < best_inertia - 1e-12:
            best_labels, best_inertia = labels.copy(), inertia
    return best_labels, best_inertia
