"""Effects across init seeds (lce.train.effects, lce.train.study): t-intervals against the
formula, the seed bootstrap, and the claim rule on planted numbers -- a planted real effect gets
its claim, a planted null gets exactly "no effect detected at this size"."""

import math

import numpy as np
import pandas as pd
import pytest

from lce.train.effects import (
    MIN_BOOTSTRAP_SEEDS,
    NO_EFFECT,
    mean_interval,
    seed_bootstrap_spearman,
    verdict,
)
from lce.train.study import PAIR_COLUMNS, RUN_COLUMNS, halting_effects, k_effects, selection_table


def test_t_interval_is_the_student_one_computed_by_hand():
    values = [0.01, 0.03, 0.02, 0.05, 0.04]
    stats = mean_interval(values)
    half = 2.776445 * np.std(values, ddof=1) / math.sqrt(5)  # t(0.975, 4 df)
    assert stats["n"] == 5 and stats["mean"] == pytest.approx(0.03)
    assert stats["ci_low"] == pytest.approx(0.03 - half, abs=1e-6)
    assert stats["ci_high"] == pytest.approx(0.03 + half, abs=1e-6)
    assert math.isnan(mean_interval([0.1])["ci_low"])   # one seed: no interval
    assert mean_interval([0.1, math.nan, 0.3])["n"] == 2


def test_verdict_claims_only_an_interval_that_excludes_zero():
    assert verdict(0.01, 0.05, "up", "down") == "up"
    assert verdict(-0.05, -0.01, "up", "down") == "down"
    for low, high in ((-0.01, 0.05), (0.0, 0.05), (math.nan, math.nan)):
        assert verdict(low, high, "up", "down") == NO_EFFECT


def pairs(differences: dict[int, list[float]]) -> pd.DataFrame:
    """Halted-continuous pairs for seeds 0.., one list of per-seed differences per halt cycle."""
    rows = [{"halted": f"k8-s{s}-h{h}", "continuous": f"k8-s{s}", "setting": "syn/net", "k": 8,
             "seed": s, "halt": h, "top1_halted": 0.5 + d, "top1_continuous": 0.5,
             "difference": d, "time_halted_s": 1.0, "time_continuous_s": 2.0,
             "cluster_s_halted": 0.5, "cluster_s_continuous": 1.0}
            for h, ds in differences.items() for s, d in enumerate(ds)]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def test_planted_halting_effect_is_claimed_and_a_planted_null_is_not():
    rng = np.random.default_rng(0)
    real = list(-0.05 + rng.normal(0, 0.005, 8))       # halting at 1 costs 5 points, every seed
    null = rng.normal(0, 0.02, 8)
    null = list(null - null.mean())                     # mean exactly 0: a null by construction
    effects = halting_effects(pairs({1: real, 2: null})).set_index("effect")
    at1 = effects.loc["halt at 1, K=8: top-1 halted - continuous"]
    at2 = effects.loc["halt at 2, K=8: top-1 halted - continuous"]
    assert at1["verdict"] == "halting early lowers the top-1" and at1["ci_high"] < 0
    assert at1["n"] == 8 and at1["mean"] == pytest.approx(np.mean(real))
    assert at2["verdict"] == NO_EFFECT and at2["ci_low"] < 0 < at2["ci_high"]


def run_rows(top1_by_k: dict[int, list[float]], signal=None) -> pd.DataFrame:
    rows = [{"run": f"k{k}-s{s}", "method": "deepcluster", "setting": "syn/net", "k": k,
             "seed": s, "halt": 0, "cycles": 3, "linear_top1": t, "nmi_labels": 0.1,
             "random_nmi": signal(k, s, t) if signal else 0.1, "early_nmi": 0.1,
             "cluster_s": 1.0, "train_s": 1.0, "total_s": 2.0}
            for k, values in top1_by_k.items() for s, t in enumerate(values)]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def test_k_effects_pair_by_seed():
    rng = np.random.default_rng(1)
    seed_level = rng.normal(0.6, 0.1, 8)    # large differences between seeds ...
    table = run_rows({8: list(seed_level), 16: list(seed_level + 0.02),   # ... a small K effect
                      32: list(seed_level + rng.normal(0, 0.01, 8))})
    effects = k_effects(table).set_index("effect")
    assert list(effects.index) == ["top-1 K=16 - K=8", "top-1 K=32 - K=8", "top-1 K=32 - K=16"]
    # paired by seed the 0.02 shift is exact: claimed despite the seed-to-seed spread
    assert effects.loc["top-1 K=16 - K=8", "verdict"] == "K=16 beats K=8"
    assert effects.loc["top-1 K=16 - K=8", "ci_low"] == pytest.approx(0.02)


def test_planted_signal_is_claimed_and_a_planted_noise_signal_is_not():
    rng = np.random.default_rng(2)
    top1 = {k: list(rng.uniform(0.4, 0.9, 8)) for k in (8, 16, 32)}
    noise = rng.uniform(0, 1, (64, 64))
    table = run_rows(top1, signal=lambda k, s, t: t + 0.001 * (k % 5))   # tracks the top-1
    selection = selection_table(table, pd.DataFrame(columns=PAIR_COLUMNS), 1)
    real = selection.set_index("signal").loc["random_nmi"]
    assert real["rho"] > 0.9 and real["ci_low"] > 0 and real["seeds"] == 8
    assert real["verdict"] == "`random_nmi` ranks the runs as their final top-1 does"
    table = run_rows(top1, signal=lambda k, s, t: noise[k, s])
    null = selection_table(table, pd.DataFrame(columns=PAIR_COLUMNS), 1)
    null = null.set_index("signal").loc["random_nmi"]
    assert null["ci_low"] < 0 < null["ci_high"] and null["verdict"] == NO_EFFECT


def test_seed_bootstrap_keeps_a_seed_s_runs_together_and_needs_enough_seeds():
    seeds = np.repeat(np.arange(6), 3)
    x = np.tile([1.0, 2.0, 3.0], 6) + seeds * 10
    stats = seed_bootstrap_spearman(seeds, x, x)
    assert stats["rho"] == pytest.approx(1.0) and stats["seeds"] == 6
    assert stats["ci_low"] == pytest.approx(1.0)  # every resample is perfectly monotone too
    few = seed_bootstrap_spearman(seeds[:3 * (MIN_BOOTSTRAP_SEEDS - 1)],
                                  x[:3 * (MIN_BOOTSTRAP_SEEDS - 1)],
                                  x[:3 * (MIN_BOOTSTRAP_SEEDS - 1)])
    assert few["rho"] == pytest.approx(1.0) and math.isnan(few["ci_low"])
    assert math.isnan(seed_bootstrap_spearman(seeds, np.ones(18), x)["rho"])
