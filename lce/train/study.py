"""The study's tables, computed from the runs' artifacts: one row per run, the halted-vs-continuous
pairs, DeepCluster next to its random and supervised anchors, and the predictive power of the
cheap selection signals; each effect with its 95% interval across init seeds and its verdict
(:mod:`lce.train.effects`)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd

from lce.errors import LCEError
from lce.train.effects import mean_interval, seed_bootstrap_spearman, verdict
from lce.train.random_quality import data_and_net, setting_name
from lce.train.selection import selection_regret

# cheap signals: NMI of the pseudo-labels with the labels of a small labelled subset, at cycle 0
# (k-means on the random network) and at the study's early cycle
SIGNALS = ("random_nmi", "early_nmi")
SELECTION_COLUMNS = ["setting", "signal", "n", "seeds", "twins_dropped", "rho", "ci_low",
                     "ci_high", "regret", "verdict"]
EFFECT_COLUMNS = ["setting", "effect", "n", "mean", "ci_low", "ci_high", "verdict"]
PAIR_COLUMNS = ["halted", "continuous", "setting", "k", "seed", "halt", "top1_halted",
                "top1_continuous", "difference", "time_halted_s", "time_continuous_s",
                "cluster_s_halted", "cluster_s_continuous"]
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
    """Each halted run next to its continuous twin: the run with the same settings (seed
    included) that re-clusters every cycle. Times are training seconds (features + k-means +
    SGD), the same measure for a run trained alone and one branched off its twin."""
    by_run = table.set_index("run")
    continuous = {replace(run, key=""): key for key, run in runs.items()
                  if run.method == "deepcluster" and not run.halt_clustering}
    rows = []
    for key, run in runs.items():
        if run.method != "deepcluster" or not run.halt_clustering:
            continue
        other_key = continuous.get(replace(run, key="", halt_clustering=0))
        if other_key is None:
            continue
        halted, twin = by_run.loc[key], by_run.loc[other_key]
        rows.append({"halted": key, "continuous": other_key, "setting": halted.setting,
                     "k": run.k, "seed": run.seed, "halt": run.halt_clustering,
                     "top1_halted": halted.linear_top1, "top1_continuous": twin.linear_top1,
                     "difference": halted.linear_top1 - twin.linear_top1,
                     "time_halted_s": halted.cluster_s + halted.train_s,
                     "time_continuous_s": twin.cluster_s + twin.train_s,
                     "cluster_s_halted": halted.cluster_s,
                     "cluster_s_continuous": twin.cluster_s})
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def _effect(setting: str, effect: str, values, positive: str, negative: str) -> dict:
    stats = mean_interval(values)
    return {"setting": setting, "effect": effect, **stats,
            "verdict": verdict(stats["ci_low"], stats["ci_high"], positive, negative)}


def halting_effects(pairs: pd.DataFrame) -> pd.DataFrame:
    """Mean of halted - continuous top-1 over the seeds, per setting, K and halt cycle, with its
    t-interval and verdict."""
    rows = [_effect(setting, f"halt at {h}, K={k}: top-1 halted - continuous", g["difference"],
                    "halting early raises the top-1", "halting early lowers the top-1")
            for (setting, k, h), g in pairs.groupby(["setting", "k", "halt"], sort=True)]
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def k_effects(table: pd.DataFrame) -> pd.DataFrame:
    """Top-1 at K_b minus top-1 at K_a (K_a < K_b) for the same seed, over the continuous runs,
    per setting: its mean over seeds, t-interval and verdict."""
    deep = table[(table["method"] == "deepcluster") & (table["halt"] == 0)]
    rows = []
    for setting, group in deep.groupby("setting", sort=True):
        top1 = group.pivot_table(index="seed", columns="k", values="linear_top1")
        ks = list(top1.columns)
        for i, a in enumerate(ks):
            for b in ks[i + 1:]:
                rows.append(_effect(setting, f"top-1 K={b} - K={a}", top1[b] - top1[a],
                                    f"K={b} beats K={a}", f"K={a} beats K={b}"))
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def quality_by_k(quality: pd.DataFrame) -> pd.DataFrame:
    """The random network's NMI per setting and K: its mean over seeds with a t-interval, and
    each larger K against the smallest one, paired by seed (does K change the initial quality?)."""
    rows = []
    for setting, group in quality.groupby("setting", sort=True):
        nmi = group.pivot_table(index="seed", columns="k", values="nmi")
        for k in nmi.columns:
            rows.append({**_effect(setting, f"random-filter NMI at K={k}", nmi[k], "", ""),
                         "verdict": ""})
        first = nmi.columns[0]
        for k in nmi.columns[1:]:
            rows.append(_effect(setting, f"random-filter NMI K={k} - K={first}",
                                nmi[k] - nmi[first], f"K={k} clusters the random features "
                                f"closer to the labels than K={first}",
                                f"K={first} clusters the random features closer to the labels "
                                f"than K={k}"))
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def interplay_correlation(interplay: pd.DataFrame) -> pd.DataFrame:
    """Spearman rho of the random network's NMI at a run's own (seed, K) with the run's final
    top-1, over the continuous runs of each setting (all K and seeds), with a seed-bootstrap
    interval: does initial filter quality, at the K trained with, predict the outcome?"""
    rows = []
    for setting, group in interplay[interplay["halt"] == 0].groupby("setting", sort=True):
        stats = seed_bootstrap_spearman(group["seed"], group["random_nmi_all"],
                                        group["linear_top1"])
        rows.append({"setting": setting, "effect": "rho(random-filter NMI, final top-1)",
                     "n": stats["n"], "mean": stats["rho"], "ci_low": stats["ci_low"],
                     "ci_high": stats["ci_high"],
                     "verdict": verdict(stats["ci_low"], stats["ci_high"],
                                        "better random filters (at the run's K) go with a "
                                        "better final top-1",
                                        "better random filters go with a worse final top-1")})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def selection_table(table: pd.DataFrame, halted: pd.DataFrame, early_cycle: int) -> pd.DataFrame:
    """Spearman rho of each cheap signal with the final linear-probe top-1, per setting, over the
    DeepCluster runs of the grid (all K, halt cycles and seeds), with a 95% interval from
    resampling whole seeds, the verdict, and the accuracy lost by trusting the signal.

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
            stats = seed_bootstrap_spearman(kept["seed"], kept[signal], kept["linear_top1"])
            regret = selection_regret(kept[signal], kept["linear_top1"]) if len(kept) else 0
            rows.append({"setting": setting, "signal": signal, **stats,
                         "twins_dropped": int(twin.sum()), "regret": regret,
                         "verdict": verdict(stats["ci_low"], stats["ci_high"],
                                            f"`{signal}` ranks the runs as their final top-1 "
                                            "does", f"`{signal}` ranks the runs against their "
                                            "final top-1")})
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
