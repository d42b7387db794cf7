"""The study's statistics and report on hand-made runs: Spearman's interval against the formula,
random-filter quality on planted features, tied halted twins left out of the selection, and the
comparison with the random and supervised anchors."""

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

import lce.train.random_quality as random_quality
from lce.params import DeepClusterRun
from lce.train.datasets import TrainingData
from lce.train.effects import NO_EFFECT
from lce.train.random_quality import QUALITY_COLUMNS, random_filter_quality
from lce.train.report import write_report
from lce.train.selection import spearman_with_ci
from lce.train.study import (
    RUN_COLUMNS,
    anchor_comparison,
    halted_pairs,
    halting_effects,
    interplay_correlation,
    k_effects,
    quality_by_k,
    quality_vs_accuracy,
    selection_table,
)


def test_spearman_interval_is_the_fisher_z_one_computed_by_hand():
    signal, target = [1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5]
    stats = spearman_with_ci(signal, target)
    rho = 1 - 6 * 6 / (6 * (6 ** 2 - 1))  # every rank off by one: sum d^2 = 6
    half = 1.959964 * math.sqrt((1 + rho ** 2 / 2) / (6 - 3))  # Bonett-Wright SE
    assert stats["n"] == 6 and stats["rho"] == pytest.approx(rho)
    assert stats["ci_low"] == pytest.approx(math.tanh(math.atanh(rho) - half), abs=1e-6)
    assert stats["ci_high"] == pytest.approx(math.tanh(math.atanh(rho) + half), abs=1e-6)
    assert math.isnan(spearman_with_ci([1, 2, 3], [1, 3, 2])["ci_low"])  # no interval below 4
    assert math.isnan(spearman_with_ci([1, 1, 1, 1], [1, 2, 3, 4])["rho"])  # a constant signal


def test_random_filter_quality_on_planted_features(monkeypatch):
    labels = np.repeat(np.arange(3), 30)
    rng = np.random.default_rng(0)
    planted = np.eye(3)[labels] * 10 + rng.normal(0, 0.1, (90, 3))  # labels perfectly separable
    data = TrainingData(torch.zeros(90, 1, 32, 32), labels, np.arange(90), np.arange(0),
                        np.arange(0, 90, 3), (0.0,), (1.0,))
    monkeypatch.setattr(random_quality, "load_training_data", lambda run: data)
    monkeypatch.setattr(random_quality, "compute_features", lambda model, images: planted)
    rows = random_filter_quality(DeepClusterRun(pca_dims=0), ks=[3, 6], seeds=[0])
    by_k = {row["k"]: row for row in rows}
    assert by_k[3]["nmi"] == pytest.approx(1.0) and by_k[3]["nmi_labelled"] == pytest.approx(1.0)
    assert by_k[3]["entropy_mean"] == pytest.approx(0.0) and by_k[3]["silhouette"] > 0.9
    # more clusters than classes: still pure (entropy 0), no longer NMI 1
    assert by_k[6]["entropy_mean"] == pytest.approx(0.0) and by_k[6]["nmi"] < 1
    assert list(rows[0]) == QUALITY_COLUMNS


BASE = DeepClusterRun(dataset="synthetic", n_images=100, k=4, cycles=3)
RUNS = {
    "k4-s0": replace(BASE, key="k4-s0"),
    "k4-s1": replace(BASE, key="k4-s1", seed=1),
    "k8-s0": replace(BASE, key="k8-s0", k=8),
    "k16-s0": replace(BASE, key="k16-s0", k=16),
    "k4-s0-halt": replace(BASE, key="k4-s0-halt", halt_clustering=2),
    "random": replace(BASE, key="random", method="random"),
    "random-s1": replace(BASE, key="random-s1", method="random", seed=1),
    "random-other-data": replace(BASE, key="random-other-data", method="random", n_images=50),
    "supervised": replace(BASE, key="supervised", method="supervised"),
}
TOP1 = {"k4-s0": 0.30, "k4-s1": 0.32, "k8-s0": 0.28, "k16-s0": 0.25, "k4-s0-halt": 0.31,
        "random": 0.35, "random-s1": 0.36, "random-other-data": 0.10, "supervised": 0.60}
# the halted run is its twin up to cycle 2, so its cycle 0 and 1 signals are the twin's
SIGNALS = {"k4-s0": (0.1, 0.2), "k4-s1": (0.2, 0.3), "k8-s0": (0.3, 0.1), "k16-s0": (0.4, 0.4),
           "k4-s0-halt": (0.1, 0.2)}


def study_table() -> pd.DataFrame:
    rows = [{"run": key, "method": run.method, "setting": "synthetic/lenet", "k": run.k,
             "seed": run.seed, "halt": run.halt_clustering, "cycles": run.cycles,
             "linear_top1": TOP1[key], "nmi_labels": 0.1,
             "random_nmi": SIGNALS.get(key, (math.nan,) * 2)[0],
             "early_nmi": SIGNALS.get(key, (math.nan,) * 2)[1],
             "cluster_s": 1.0, "train_s": 1.0, "total_s": 2.0} for key, run in RUNS.items()]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def test_halted_twins_are_left_out_of_signals_read_before_the_halt():
    table = study_table()
    halted = halted_pairs(RUNS, table)
    assert halted[["halted", "continuous"]].values.tolist() == [["k4-s0-halt", "k4-s0"]]
    before = selection_table(table, halted, early_cycle=1).set_index("signal")
    assert before.loc["random_nmi", "n"] == 4 and before.loc["random_nmi", "twins_dropped"] == 1
    assert before.loc["early_nmi", "n"] == 4 and before.loc["early_nmi", "twins_dropped"] == 1
    # read at or after the halt, the halted run's signal is its own
    after = selection_table(table, halted, early_cycle=2).set_index("signal")
    assert after.loc["early_nmi", "n"] == 5 and after.loc["early_nmi", "twins_dropped"] == 0


def test_anchors_share_data_and_net_and_prefer_the_same_seed():
    anchors = anchor_comparison(RUNS, study_table()).set_index("run")
    assert list(anchors.index) == ["k4-s0", "k4-s1", "k8-s0", "k16-s0", "k4-s0-halt"]
    assert anchors.loc["k4-s0", "random"] == "random"
    assert anchors.loc["k4-s1", "random"] == "random-s1"  # same init seed
    assert set(anchors["supervised"]) == {"supervised"}
    assert anchors.loc["k4-s0", "vs_random"] == pytest.approx(0.30 - 0.35)
    assert anchors.loc["k4-s0", "vs_supervised"] == pytest.approx(0.30 - 0.60)
    lonely = anchor_comparison({"k4-s0": RUNS["k4-s0"]}, study_table())
    assert lonely["random"].tolist() == [""] and math.isnan(lonely["random_top1"].iloc[0])


def test_report_says_what_cannot_be_measured_and_when_deepcluster_loses(tmp_path):
    table = study_table()
    quality = pd.DataFrame([{"setting": "synthetic/lenet", "seed": s, "k": k, "nmi": 0.1,
                             "nmi_labelled": 0.1, "entropy_mean": 1.0, "inertia": 1.0,
                             "silhouette": 0.1} for s in (0, 1) for k in (4, 8, 16)],
                           columns=QUALITY_COLUMNS)
    metrics = pd.DataFrame([{"run": key, "cycle": c, "metric": "nmi_labels", "value": 0.1}
                            for key in SIGNALS for c in range(3)])
    halted = halted_pairs(RUNS, table)
    interplay = quality_vs_accuracy(table, quality)
    effects = {"halting": halting_effects(halted), "k": k_effects(table),
               "quality": quality_by_k(quality), "interplay": interplay_correlation(interplay)}
    path = write_report(tmp_path, table, metrics, quality, interplay, halted,
                        selection_table(table, halted, 1), anchor_comparison(RUNS, table),
                        early_cycle=1, effects=effects)
    text = path.read_text()
    assert "K=4: 0.0200 over 2 seeds" in text
    assert "one init seed only at K=8, K=16: no spread across seeds can be measured" in text
    assert "spread across init seeds at the same K: K=8" not in text
    assert "(1 halted twin(s) left out)" in text
    assert ("DeepCluster does not beat the random network here: none of the 5 runs exceeds its "
            "random anchor's top-1") in text
    assert "from the supervised network (`supervised`, 0.6000)" in text


def test_report_counts_its_intervals_and_words_the_spread_per_metric(tmp_path):
    """Two finite intervals, one excluding zero, one NaN interval (not judged), the rest of the
    tables empty: the report says 2 judged, 1 excluding zero, 0.1 expected by chance; the
    cross-machine spread is given per metric (NMI, loss and cluster sizes are on different
    scales) and an exact zero as such."""
    table = study_table()
    halted = halted_pairs(RUNS, table)
    quality = pd.DataFrame([{"setting": "synthetic/lenet", "seed": s, "k": k, "nmi": 0.1,
                             "nmi_labelled": 0.1, "entropy_mean": 1.0, "inertia": 1.0,
                             "silhouette": 0.1} for s in (0, 1) for k in (4, 8)],
                           columns=QUALITY_COLUMNS)
    interplay = quality_vs_accuracy(table, quality)
    effect = {"setting": "s", "effect": "top-1 K=8 - K=4", "n": 5}
    empty = pd.DataFrame(columns=[*effect, "mean", "ci_low", "ci_high", "verdict"])
    effects = {"k": pd.DataFrame([
        effect | {"mean": 0.1, "ci_low": 0.05, "ci_high": 0.15, "verdict": "K=8 is better"},
        effect | {"mean": 0.0, "ci_low": -0.1, "ci_high": 0.1, "verdict": NO_EFFECT},
        effect | {"mean": 0.0, "ci_low": math.nan, "ci_high": math.nan, "verdict": NO_EFFECT}]),
        "halting": empty, "quality": empty, "interplay": empty}
    metrics = pd.DataFrame([{"run": key, "cycle": 0, "metric": "nmi_labels", "value": 0.1}
                            for key in SIGNALS])
    spread = {"runs": 3, "linear_top1": 0.02, "random_nmi": 0.0, "early_nmi": 0.001,
              "metrics": {"nmi_labels": 0.003, "loss": 0.5, "cluster_size_max": 140.0}}
    selection = selection_table(table, halted, 1).iloc[0:0]
    text = write_report(tmp_path, table, metrics, quality, interplay, halted, selection,
                        anchor_comparison(RUNS, table), early_cycle=1, effects=effects,
                        spread=spread).read_text()
    assert "This report judges 2 intervals; 1 exclude zero, and about 0.1 would by chance" in text
    assert ("`random_nmi` / `early_nmi` not at all / by at most 0.001; per cycle: NMI with the "
            "labels by at most 0.003, loss by at most 0.5, largest cluster (images) by at most "
            "1.4e+02 (3 runs compared)") in text
    assert "(across machines: <= 0.04)" in text
    judged = pd.read_csv(tmp_path / "effects.csv")
    assert judged.columns.tolist() == ["setting", "effect", "n", "estimate", "ci_low", "ci_high",
                                       "verdict", "machine_spread"]
    assert judged["verdict"].tolist() == ["K=8 is better", NO_EFFECT, NO_EFFECT]
    assert judged["machine_spread"].tolist() == ["<= 0.04"] * 3
