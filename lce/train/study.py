"""The study's tables, computed from the runs' artifacts: one row per run, the halted-vs-continuous
pairs, and the predictive power of the cheap selection signals."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd

from lce.errors import LCEError
from lce.train.random_quality import setting_name
from lce.train.selection import selection_regret, spearman_with_ci

# cheap signals: NMI of the pseudo-labels with the labels of a small labelled subset, at cycle 0
# (k-means on the random network) and at the study's early cycle
SIGNALS = ("random_nmi", "early_nmi")
RUN_COLUMNS = ["run", "method", "setting", "k", "seed", "halt", "cycles", "linear_top1",
               "nmi_labels", "random_nmi", "early_nmi", "cluster_s", "train_s", "total_s"]


def read_run(out: Path) -> tuple[pd.DataFrame, dict]:
    metrics, timings = out / "metrics.parquet", out / "timings.json"
    for path in (metrics, timings):
        if not path.is_file():
            raise LCEError(f"{path}: file not found (run `dvc repro train@{out.name}` first)")
    return pd.read_parquet(metrics), json.loads(timings.read_text())


def run_table(runs: dict, root: Path, early_cycle: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per run with its settings, final figures, signals and times; all metrics)."""
    rows, frames = [], []
    for key, run in runs.items():
        metrics, timings = read_run(Path(root) / key)
        frames.append(metrics)
        value = metrics.set_index(["metric", "cycle"])["value"]

        def at(metric, cycle, value=value):
            return float(value.get((metric, cycle), math.nan))

        last = int(metrics["cycle"].max())
        cycles = timings["cycles"]
        rows.append({
            "run": key, "method": run.method, "setting": setting_name(run), "k": run.k,
            "seed": run.seed, "halt": run.halt_clustering, "cycles": run.cycles,
            "linear_top1": at("linear_top1", last), "nmi_labels": at("nmi_labels", last),
            "random_nmi": at("nmi_labelled", 0),
            "early_nmi": at("nmi_labelled", min(early_cycle, last)),
            "cluster_s": sum(c.get("features_s", 0) + c.get("cluster_s", 0) for c in cycles),
            "train_s": sum(c.get("train_s", 0) for c in cycles),
            "total_s": timings["total_s"]})
    metrics = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame(columns=["run", "cycle", "metric", "value"]))
    return pd.DataFrame(rows, columns=RUN_COLUMNS), metrics


def halted_pairs(runs: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Each halted run next to the run with the same settings that re-clusters every cycle."""
    by_run = table.set_index("run")
    rows = []
    for key, run in runs.items():
        if run.method != "deepcluster" or not run.halt_clustering:
            continue
        for other_key, other in runs.items():
            if other.halt_clustering == 0 and replace(other, key=key,
                                                      halt_clustering=run.halt_clustering) == run:
                halted, continuous = by_run.loc[key], by_run.loc[other_key]
                rows.append({"halted": key, "continuous": other_key, "halt": run.halt_clustering,
                             "top1_halted": halted.linear_top1,
                             "top1_continuous": continuous.linear_top1,
                             "time_halted_s": halted.total_s,
                             "time_continuous_s": continuous.total_s,
                             "cluster_s_halted": halted.cluster_s,
                             "cluster_s_continuous": continuous.cluster_s})
    return pd.DataFrame(rows, columns=["halted", "continuous", "halt", "top1_halted",
                                       "top1_continuous", "time_halted_s", "time_continuous_s",
                                       "cluster_s_halted", "cluster_s_continuous"])


def selection_table(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman rho (95% CI) of each cheap signal with the final linear-probe top-1, per setting,
    over the DeepCluster runs of the grid, and the accuracy lost by trusting the signal."""
    rows = []
    deep = table[table["method"] == "deepcluster"]
    for setting, group in deep.groupby("setting", sort=True):
        for signal in SIGNALS:
            stats = spearman_with_ci(group[signal], group["linear_top1"])
            regret = selection_regret(group[signal], group["linear_top1"]) if len(group) else 0
            rows.append({"setting": setting, "signal": signal, **stats, "regret": regret})
    return pd.DataFrame(rows, columns=["setting", "signal", "n", "rho", "p_value", "ci_low",
                                       "ci_high", "regret"])


def quality_vs_accuracy(table: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """Trained DeepCluster runs with the random network's NMI at their own (seed, K)."""
    deep = table[table["method"] == "deepcluster"][["run", "setting", "seed", "k", "halt",
                                                    "linear_top1", "nmi_labels"]]
    merged = deep.merge(quality[["setting", "seed", "k", "nmi", "silhouette"]]
                        .rename(columns={"nmi": "random_nmi_all"}),
                        on=["setting", "seed", "k"], how="left")
    return merged.sort_values(["setting", "k", "seed", "halt"]).reset_index(drop=True)
