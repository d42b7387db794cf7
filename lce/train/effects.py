"""Effects with 95% intervals across init seeds, and the one rule for stating a claim.

The unit of replication is the init seed: runs of one seed share their random filters (and a
halted run its continuous twin's first cycles), so they are not independent. Hence

- a *paired difference* (halted - continuous twin, or K_b - K_a) is taken within each seed and
  its mean gets a Student-t interval over the seeds (n - 1 degrees of freedom): with 5 seeds a
  percentile bootstrap of 5 values is too narrow, the t-interval is the honest small-n one;
- a *rank correlation* pools the runs of all seeds and gets a percentile interval from a
  bootstrap that resamples whole seeds (a seed's runs stay together).

A claim is written only where the interval excludes zero; otherwise the verdict is exactly
:data:`NO_EFFECT`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lce.analysis.stats import spearman

NO_EFFECT = "no effect detected at this size"
CONFIDENCE = 0.95
BOOTSTRAP = 2000  # seed resamples per rank correlation
# fewer seeds have too few distinct resamples for a percentile interval (3 seeds: 10 multisets,
# 4: 35, 5: 126), and it comes out too narrow: no interval below this
MIN_BOOTSTRAP_SEEDS = 5


def mean_interval(values, confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean of per-seed values with its Student-t interval (NaN below two seeds)."""
    from scipy.stats import t

    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return {"n": n, "mean": mean, "ci_low": math.nan, "ci_high": math.nan}
    half = float(t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"n": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def seed_bootstrap_spearman(seeds, signal, target, resamples: int = BOOTSTRAP,
                            confidence: float = CONFIDENCE, rng_seed: int = 0
                            ) -> dict[str, float]:
    """Spearman rho over all runs, with a percentile interval from resampling whole seeds
    (NaN below :data:`MIN_BOOTSTRAP_SEEDS` seeds; rho NaN for a constant signal)."""
    frame = pd.DataFrame({"seed": seeds, "x": signal, "y": target}).dropna()
    groups = [g[["x", "y"]].to_numpy() for _, g in frame.groupby("seed", sort=True)]
    nan = {"n": len(frame), "seeds": len(groups), "rho": math.nan, "ci_low": math.nan,
           "ci_high": math.nan}
    if len(frame) < 3 or np.ptp(frame["x"]) == 0 or np.ptp(frame["y"]) == 0:
        return nan
    rho = spearman(frame["x"].to_numpy(), frame["y"].to_numpy())[0]
    out = {**nan, "rho": float(rho)}
    if len(groups) < MIN_BOOTSTRAP_SEEDS:
        return out
    rng, draws = np.random.default_rng(rng_seed), []
    for _ in range(resamples):
        sample = np.concatenate([groups[i] for i in rng.integers(len(groups), size=len(groups))])
        if np.ptp(sample[:, 0]) > 0 and np.ptp(sample[:, 1]) > 0:
            draws.append(spearman(sample[:, 0], sample[:, 1])[0])
    if draws:
        tail = (1 - confidence) / 2 * 100
        out["ci_low"], out["ci_high"] = (float(v) for v in np.percentile(draws, [tail, 100 - tail]))
    return out


def excludes_zero(low: float, high: float) -> bool:
    return bool(math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0))


def verdict(low: float, high: float, positive: str, negative: str) -> str:
    """``positive`` / ``negative`` where the interval lies above / below zero, else
    :data:`NO_EFFECT`."""
    if not excludes_zero(low, high):
        return NO_EFFECT
    return positive if low > 0 else negative
