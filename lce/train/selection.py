"""Semi-supervised hyper-parameter selection: does a cheap signal, computed with a small labelled
subset before (or early in) training, rank the settings of a grid as their final linear-probe
accuracy does? Measured by Spearman's rho with a confidence interval."""

from __future__ import annotations

import math

import numpy as np

from lce.analysis.stats import spearman


def spearman_with_ci(signal, target, confidence: float = 0.95) -> dict[str, float]:
    """Spearman rho, its p-value and a Fisher-z interval with the Bonett-Wright standard error
    sqrt((1 + rho^2 / 2) / (n - 3)); the interval is NaN below n = 4 (it does not exist)."""
    from scipy.stats import norm

    signal, target = np.asarray(signal, float), np.asarray(target, float)
    n = len(signal)
    if n < 3 or np.ptp(signal) == 0 or np.ptp(target) == 0:
        return {"n": n, "rho": math.nan, "p_value": math.nan, "ci_low": math.nan,
                "ci_high": math.nan}
    rho, p = spearman(signal, target)
    low = high = math.nan
    if n >= 4:
        z = math.atanh(max(min(rho, 0.999999), -0.999999))
        half = norm.ppf(0.5 + confidence / 2) * math.sqrt((1 + rho ** 2 / 2) / (n - 3))
        low, high = math.tanh(z - half), math.tanh(z + half)
    return {"n": n, "rho": rho, "p_value": p, "ci_low": low, "ci_high": high}


def selection_regret(signal, target) -> float:
    """Accuracy lost by picking the setting with the best signal instead of the best setting."""
    signal, target = np.asarray(signal, float), np.asarray(target, float)
    return float(target.max() - target[int(np.argmax(signal))])


def halted_twins(params_by_run: dict[str, dict]) -> dict[str, int]:
    """Halted runs that have a continuous twin (the same settings, re-clustering every cycle),
    with their halt cycle. Up to the halt such a run *is* its twin, so a signal read before the
    halt must not count it again: it would add a tied duplicate to the ranking."""
    def without_halt(params):
        return {k: v for k, v in params.items() if k != "halt_clustering"}

    continuous = [without_halt(p) for p in params_by_run.values()
                  if not p.get("halt_clustering")]
    return {run: int(p["halt_clustering"]) for run, p in params_by_run.items()
            if p.get("halt_clustering") and without_halt(p) in continuous}
