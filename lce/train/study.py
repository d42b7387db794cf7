"""The study's tables, computed from the runs' artifacts: one row per run, the halted-vs-continuous
pairs, DeepCluster next to its random and supervised anchors, and the predictive power of the
cheap selection signals."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd

from lce.errors import LCEError
from lce.train.random_quality import data_and_net, setting_name
from lce.train.selection import selection_regret, spearman_with_ci

# cheap signals: NMI of the pseudo-labels with the labels of a small labelled subset, at cycle 0
# (k-means on the random network) and at the study's early cycle
SIGNALS = ("random_nmi", "early_nmi")
SELECTION_COLUMNS = ["setting", "signal", "n", "twins_dropped", "rho", "p_value", "ci_low",
                     "ci_high", "regret"]
ANCHOR_COLUMNS = ["run", "setting", "linear_top1", "random", "random_top1", "vs_random",
                  "supervised", "supervised_top1", "vs_supervised"]
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


def selection_table(table: pd.DataFrame, halted: pd.DataFrame, early_cycle: int) -> pd.DataFrame:
    """Spearman rho (95% CI) of each cheap signal with the final linear-probe top-1, per setting,
    over the DeepCluster runs of the grid, and the accuracy lost by trusting the signal.

    A halted run is its continuous twin up to the halt, so a signal read before the halt is the
    twin's exactly: counting both would add a tied duplicate to the ranking. Such halted runs
    are dropped from that signal's statistics (``twins_dropped`` says how many).
    """
    signal_cycle = {"random_nmi": 0, "early_nmi": early_cycle}
    halt_of = dict(zip(halted["halted"], halted["halt"], strict=True))
    rows = []
    deep = table[table["method"] == "deepcluster"]
    for setting, group in deep.groupby("setting", sort=True):
        for signal in SIGNALS:
            twin = group["run"].map(lambda run, c=signal_cycle[signal]: c < halt_of.get(run, 0))
            kept = group[~twin]
            stats = spearman_with_ci(kept[signal], kept["linear_top1"])
            regret = selection_regret(kept[signal], kept["linear_top1"]) if len(kept) else 0
            rows.append({"setting": setting, "signal": signal, **stats,
                         "twins_dropped": int(twin.sum()), "regret": regret})
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS)


def anchor_comparison(runs: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Each DeepCluster run's linear-probe top-1 next to the random network (lower anchor) and the
    supervised one (upper anchor) trained on the same data with the same net; where there are
    several, the anchor with the run's own init seed, else the first by name."""
    top1 = table.set_index("run")["linear_top1"]
    rows = []
    for key, run in runs.items():
        if run.method != "deepcluster":
            continue
        row = {"run": key, "setting": setting_name(run), "linear_top1": top1[key]}
        for method in ("random", "supervised"):
            anchor = _anchor(runs, run, method)
            row[method] = anchor
            row[f"{method}_top1"] = top1[anchor] if anchor else math.nan
            row[f"vs_{method}"] = row["linear_top1"] - row[f"{method}_top1"]
        rows.append(row)
    return pd.DataFrame(rows, columns=ANCHOR_COLUMNS)


def _anchor(runs: dict, run, method: str) -> str:
    """The ``method`` run comparable with ``run`` ("" when the grid has none)."""
    same = sorted(key for key, other in runs.items()
                  if other.method == method and data_and_net(other) == data_and_net(run))
    same_seed = [key for key in same if runs[key].seed == run.seed]
    return (same_seed or same or [""])[0]


def quality_vs_accuracy(table: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """Trained DeepCluster runs with the random network's NMI at their own (seed, K)."""
    deep = table[table["method"] == "deepcluster"][["run", "setting", "seed", "k", "halt",
                                                    "linear_top1", "nmi_labels"]]
    merged = deep.merge(quality[["setting", "seed", "k", "nmi", "silhouette"]]
                        .rename(columns={"nmi": "random_nmi_all"}),
                        on=["setting", "seed", "k"], how="left")
    return merged.sort_values(["setting", "k", "seed", "halt"]).reset_index(drop=True)
