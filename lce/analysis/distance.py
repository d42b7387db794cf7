"""Distances between models in the LCE: nearest neighbours and complementary pairs.

Two models far apart in the embedding learned different concepts; if both also score well on the
benchmarks they are candidates for an ensemble whose members make different mistakes.
"""

from __future__ import annotations

import numpy as np

from lce.errors import LCEError

METRICS = ("cosine", "euclidean")


def distances(values: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Pairwise distance matrix of the rows of ``values``."""
    if metric == "euclidean":
        diff = values[:, None, :] - values[None, :, :]
        return np.sqrt((diff**2).sum(axis=-1))
    if metric == "cosine":
        norms = np.linalg.norm(values, axis=1)
        safe = np.where(norms > 0, norms, 1.0)
        similarity = (values @ values.T) / np.outer(safe, safe)
        similarity[norms == 0, :] = 0.0
        similarity[:, norms == 0] = 0.0
        np.fill_diagonal(similarity, 1.0)
        return np.clip(1.0 - similarity, 0.0, 2.0)
    raise LCEError(f"unknown distance {metric!r}", hint=f"one of: {', '.join(METRICS)}")


def nearest(models: list[str], values: np.ndarray, model: str, metric: str = "cosine",
            top: int | None = None) -> list[tuple[str, float]]:
    """Other models by increasing distance from ``model``."""
    i = models.index(model)
    d = distances(values, metric)[i]
    order = sorted((j for j in range(len(models)) if j != i), key=lambda j: (d[j], models[j]))
    return [(models[j], float(d[j])) for j in order[:top]]


def strength(models: list[str], benchmarks: dict[str, dict[str, float]],
             higher_is_better: dict[str, bool]) -> dict[str, float]:
    """Mean percentile rank of each model over the benchmark columns it has (1 = best on all)."""
    ranks: dict[str, list[float]] = {m: [] for m in models}
    for variable, scores in benchmarks.items():
        present = [m for m in models if m in scores]
        if len(present) < 2:
            continue
        sign = 1.0 if higher_is_better.get(variable, True) else -1.0
        values = np.array([sign * scores[m] for m in present])
        order = values.argsort().argsort()   # 0 = worst
        for m, r in zip(present, order, strict=True):
            ranks[m].append(r / (len(present) - 1))
    return {m: float(np.mean(r)) for m, r in ranks.items() if r}


def complementary_pairs(models: list[str], values: np.ndarray, strengths: dict[str, float],
                        metric: str = "cosine") -> list[tuple[str, str, float, float, float]]:
    """Pairs of above-median models, farthest apart first: (a, b, distance, strength a, b)."""
    if not strengths:
        raise LCEError("no benchmark scores for these models",
                       hint="import them with: lce import benchmarks PATH")
    median = float(np.median(list(strengths.values())))
    strong = [i for i, m in enumerate(models) if strengths.get(m, -1.0) >= median]
    d = distances(values, metric)
    pairs = [(models[a], models[b], float(d[a, b]), strengths[models[a]], strengths[models[b]])
             for ai, a in enumerate(strong) for b in strong[ai + 1:]]
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))
