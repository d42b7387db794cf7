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


def _greedy_kmeans_plus_plus(x: np.ndarray, k: int, rng) -> np.ndarray:
    """Greedy k-means++ seeding (as scikit-learn) of each matrix of ``x`` (runs x n x d): of
    ``2 + log k`` candidates drawn in proportion to the squared distance, keep the one that lowers
    the potential most. Returns the centres, runs x k x d."""
    m, n, _ = x.shape
    rows = np.arange(m)
    trials = 2 + int(math.log(k))
    sq = (x**2).sum(axis=2)

    def sq_dist(idx):   # squared distances of every point to the points idx (m, t): (m, n, t)
        picked = x[rows[:, None], idx]
        return np.maximum(sq[:, :, None] + sq[rows[:, None], idx][:, None, :]
                          - 2 * x @ picked.transpose(0, 2, 1), 0)

    chosen = [rng.integers(n, size=m)]
    closest = sq_dist(chosen[0][:, None])[:, :, 0]
    for _ in range(1, k):
        total = closest.sum(axis=1)
        cumulative = np.cumsum(closest, axis=1)
        draws = rng.random((m, trials)) * total[:, None]
        candidates = np.minimum((cumulative[:, None, :] <= draws[:, :, None]).sum(axis=2), n - 1)
        # every point already a centre: any point will do
        candidates = np.where(total[:, None] > 0, candidates, rng.integers(n, size=(m, trials)))
        options = np.minimum(closest[:, :, None], sq_dist(candidates))
        best = options.sum(axis=1).argmin(axis=1)
        chosen.append(candidates[rows, best])
        closest = options[rows, :, best]
    return x[rows[:, None], np.stack(chosen, axis=1)].astype(float)


def kmeans_stack(stack: np.ndarray, k: int, seed: int, n_init: int = 10,
                 max_iter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """k-means of every matrix of ``stack`` (matrices x n x d) at once: (labels, matrices x n;
    inertias) of the best of ``n_init`` k-means++ runs (Lloyd iterations) of each. The bootstrap
    clusters a thousand small replicates: one batched loop instead of a Python loop per run.

    Not :func:`lce.train.clustering.kmeans`: that one clusters one large point cloud per cycle
    (thousands of features, one run, DeepCluster's empty-cluster refill, a faiss option), this one
    tens of models many times over, exactly (best of ``n_init``), with numpy alone."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.asarray(stack, dtype=float), n_init, axis=0)   # run r of i at i*n_init + r
    m, n, _ = x.shape
    rows = np.arange(m)
    sq = (x**2).sum(axis=2)
    centres = _greedy_kmeans_plus_plus(x, k, rng)
    labels = np.full((m, n), -1)
    active = rows                       # runs whose labels still change
    for _ in range(max_iter):
        xs, cs = x[active], centres[active]
        d2 = sq[active][:, :, None] - 2 * xs @ cs.transpose(0, 2, 1) \
            + (cs**2).sum(axis=2)[:, None]
        new = d2.argmin(axis=2)
        moved = (new != labels[active]).any(axis=1)
        if not moved.any():
            break
        active, new, xs, cs = active[moved], new[moved], xs[moved], cs[moved]
        labels[active] = new
        members = (new[:, :, None] == np.arange(k)).astype(float)      # one-hot (runs, n, k)
        counts = members.sum(axis=1)
        filled = counts > 0                                             # an empty cluster keeps
        means = (members.transpose(0, 2, 1) @ xs) / np.maximum(counts, 1)[:, :, None]  # its centre
        centres[active] = np.where(filled[:, :, None], means, cs)
    inertias = ((x - centres[rows[:, None], labels]) ** 2).sum(axis=(1, 2)).reshape(-1, n_init)
    best = np.zeros(len(inertias), dtype=int)
    for run in range(1, n_init):   # the first run within 1e-12 of the best, as a sequential loop
        better = inertias[:, run] < inertias[np.arange(len(best)), best] - 1e-12
        best[better] = run
    picked = np.arange(len(best)) * n_init + best
    return labels[picked], inertias[np.arange(len(best)), best]


def kmeans(values: np.ndarray, k: int, seed: int, n_init: int = 10,
           max_iter: int = 300) -> tuple[np.ndarray, float]:
    """(labels, inertia) of the best of ``n_init`` k-means++ runs (Lloyd iterations)."""
    labels, inertias = kmeans_stack(values[None], k, seed, n_init, max_iter)
    return labels[0], float(inertias[0])
