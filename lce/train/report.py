"""The study report: markdown with SVG plots that states, on our data, the claims of "A Deep Dive
into Deep Cluster" (Mustapha, Khreich, Masri, arXiv 2207.11839) next to the numbers we measured,
whatever they turn out to be. Claims and numbers are written side by side; the text never
asserts a result the tables do not show: an effect is claimed only where its 95% interval across
init seeds excludes zero (:mod:`lce.train.effects`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lce.formats import Format, render
from lce.io import atomic_path
from lce.plots import line_chart
from lce.train.effects import NO_EFFECT

CLAIMS = {
    "interplay": "Convergence and accuracy depend on the interplay between the quality of the "
                 "randomly initialised filters and the number of clusters K.",
    "halt": "Continuous re-clustering is not needed: halting it early keeps the accuracy and "
            "saves time.",
    "selection": "In a semi-supervised setting, hyper-parameters can be selected with a cheap "
                 "signal computed on a small labelled subset.",
    "anchors": "DeepCluster learns features that beat a random network and approach supervised "
               "training on the same data.",
}


def _table(frame: pd.DataFrame, digits: int = 4) -> str:
    rows = [tuple(round(v, digits) if isinstance(v, float) and math.isfinite(v) else v
                  for v in row) for row in frame.itertuples(index=False)]
    return render(list(frame.columns), rows, Format.markdown)


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _curves(metrics: pd.DataFrame, runs: list[str], metric: str) -> dict:
    rows = metrics[(metrics["metric"] == metric) & metrics["run"].isin(runs)]
    return {run: list(zip(g["cycle"].astype(float), g["value"], strict=True))
            for run, g in rows.sort_values("cycle").groupby("run", sort=True)}


def _by_k(group: pd.DataFrame) -> str:
    """Mean linear top-1 by K, and its spread across init seeds where there is more than one."""
    by_k = group.groupby("k")
    text = "mean linear top-1 by K: " + ", ".join(
        f"K={k}: {v:.4f}" for k, v in by_k["linear_top1"].mean().items())
    spread = [f"K={k}: {g['linear_top1'].max() - g['linear_top1'].min():.4f}"
              f" over {g['seed'].nunique()} seeds" for k, g in by_k if g["seed"].nunique() > 1]
    single = [f"K={k}" for k, g in by_k if g["seed"].nunique() == 1]
    if spread:
        text += "; spread across init seeds at the same K: " + ", ".join(spread)
    if single:
        text += ("; one init seed only at " + ", ".join(single)
                 + ": no spread across seeds can be measured there")
    return text


def _anchor_verdict(group: pd.DataFrame) -> str:
    """One sentence on whether the setting's DeepCluster runs beat the random network, and how far
    the best one is from the supervised network."""
    scored = group.dropna(subset=["random_top1"])
    if scored.empty:
        text = "no random network was trained on the same data and net, so none is compared."
    else:
        beats, n = int((scored["vs_random"] > 0).sum()), len(scored)
        margins = (f"margins {scored['vs_random'].min():+.4f} to "
                   f"{scored['vs_random'].max():+.4f}")
        if beats == 0:
            text = (f"DeepCluster does not beat the random network here: none of the {n} runs "
                    f"exceeds its random anchor's top-1 ({margins}).")
        elif beats < n:
            text = (f"{beats} of {n} runs beat the random network; the other {n - beats} do not "
                    f"({margins}).")
        else:
            text = f"all {n} runs beat the random network ({margins})."
    supervised = group.dropna(subset=["supervised_top1"])
    if supervised.empty:
        return text + " No supervised network was trained on the same data and net."
    best = supervised.loc[supervised["linear_top1"].idxmax()]
    return (text + f" The best run, `{best.run}`, is {best.vs_supervised:+.4f} from the "
            f"supervised network (`{best.supervised}`, {best.supervised_top1:.4f}).")


def _spread_text(spread: dict | None) -> str:
    """What varies between machines, as measured for this report (or, without a measurement, the
    bound the reproducibility test measured)."""
    if not spread:
        return ("Between machines: not measured in this build; training the same run under two "
                "kernel-dispatch settings (`tests/train/test_train_reproducibility.py`) moved "
                "weights by at most 7.8e-7 and per-cycle metrics by at most 7.5e-8.")
    per_cycle = spread["metrics"]
    named = [f"{label} {_moved(per_cycle[m])}" for m, label in _PER_CYCLE if m in per_cycle]
    return ("Between machines, measured for this report: the first cell of each setting (its "
            "continuous run and halted twins) trained again in a fresh process under another "
            "kernel dispatch (`lce.train.reproducible.OLDER_CPU`, what a CPU without AVX2 runs) "
            f"moved a final linear top-1 {_moved(spread['linear_top1'])}, the signals "
            f"`random_nmi` / `early_nmi` {_moved(spread['random_nmi'])} / "
            f"{_moved(spread['early_nmi'])}; per cycle: {', '.join(named)} "
            f"({spread['runs']} runs compared). A paired difference of "
            "top-1 can move by at most twice the top-1 figure; a rank correlation only where "
            "two runs are closer than it.")


# The per-cycle metrics the spread sentence names, in its order (lce.train.metrics, trainer).
_PER_CYCLE = (("nmi_labels", "NMI with the labels"), ("nmi_prev", "NMI between cycles"),
              ("loss", "loss"), ("cluster_size_max", "largest cluster (images)"))


def _moved(value: float) -> str:
    """A measured difference as the report words it: exactly zero is "not at all"."""
    return "not at all" if value == 0 else f"by at most {value:.2g}"


def _bound(value: float) -> str:
    return "equal" if value == 0 else f"<= {value:.2g}"


def _spread_of(effect: str, spread: dict | None) -> str:
    """The cross-machine spread that applies to one reported quantity."""
    if not spread:
        return "metrics <= 7.5e-8 (test)"
    if "top-1" in effect and "rho" not in effect:
        return _bound(2 * spread["linear_top1"])
    if "rho" in effect:
        return f"top-1 {_bound(spread['linear_top1'])}, NMI {_bound(spread['random_nmi'])}"
    return f"NMI {_bound(spread['random_nmi'])}"


def _chance_text(judged: pd.DataFrame) -> str:
    """How many intervals the report tests (:func:`judged_effects` with finite bounds), how many
    exclude zero, and how many would by chance alone: 95% intervals over many comparisons let
    about one in twenty through with no effect."""
    finite = judged[np.isfinite(judged["ci_low"].astype(float))
                    & np.isfinite(judged["ci_high"].astype(float))]
    if finite.empty:
        return ""
    intervals, claimed = len(finite), int((finite["verdict"] != NO_EFFECT).sum())
    return (f"This report judges {intervals} intervals; {claimed} exclude zero, and about "
            f"{0.05 * intervals:.1f} would by chance alone if no effect existed anywhere "
            "(no correction for multiple comparisons is applied): read a single claim that "
            "no neighbouring cell repeats with that in mind.")


def _effects(frame: pd.DataFrame, spread: dict | None) -> list[str]:
    """An effect table with its cross-machine spread, then one line per effect: the claim where
    its interval excludes zero, else the no-effect verdict."""
    if frame.empty:
        return ["Nothing to measure in this grid.", ""]
    shown = frame.assign(machine_spread=[_spread_of(e, spread) for e in frame["effect"]])
    lines = [_table(shown), ""]
    for row in shown.itertuples(index=False):
        if row.verdict:
            lines.append(f"- **{row.setting}, {row.effect}:** {row.mean:+.4f} "
                         f"{_interval(row, 4)} over n = {row.n}; "
                         f"{row.verdict} (across machines: {row.machine_spread}).")
    return [*lines, ""]


def _interval(row, digits: int) -> str:
    """``[low, high]``, or why there is none (one seed for a t-interval, under five for a
    seed bootstrap: :mod:`lce.train.effects` leaves the bounds NaN)."""
    if math.isnan(row.ci_low):
        return "(no interval at this size)"
    return f"[{row.ci_low:+.{digits}f}, {row.ci_high:+.{digits}f}]"


def write_report(out: Path, table: pd.DataFrame, metrics: pd.DataFrame, quality: pd.DataFrame,
                 interplay: pd.DataFrame, halted: pd.DataFrame, selection: pd.DataFrame,
                 anchors: pd.DataFrame, early_cycle: int, effects: dict[str, pd.DataFrame],
                 source: str = "", spread: dict | None = None) -> Path:
    """``effects``: the tables of :mod:`lce.train.study` with intervals (``halting``, ``k``,
    ``quality``, ``interplay``); ``source``: how the runs were made (a sentence); ``spread``:
    the measured cross-machine spread (:func:`_spread_text`)."""
    out = Path(out)
    deep = table[table["method"] == "deepcluster"]
    judged = judged_effects(effects, selection, spread)
    lines = ["# DeepCluster study", "",
             (source or "Generated by the `study` stage of `dvc repro` from the runs in "
              "`params.yaml` (`deepcluster.runs`).")
             + " Paper: A. Mustapha, W. Khreich, W. Masri, *A Deep Dive into "
             "Deep Cluster*, arXiv:2207.11839; method: Caron et al., *Deep Clustering for "
             "Unsupervised Learning of Visual Features*, ECCV 2018. Small grids on a CPU: "
             "read the numbers as this configuration's, not as a replication at scale.", "",
             "**How effects are judged.** The unit of replication is the init seed. A paired "
             "difference (halted - continuous twin of the same seed; K_b - K_a at the same "
             "seed) is averaged over the seeds with a 95% Student-t interval (n - 1 degrees of "
             "freedom); a rank correlation pools the runs and gets a 95% percentile interval "
             "from 2,000 bootstrap resamples of whole seeds. A claim is written only where the "
             f"interval excludes zero; otherwise the verdict is \"{NO_EFFECT}\". "
             + _chance_text(judged), "",
             _spread_text(spread), "",
             "## Runs", "",
             _table(table[["run", "method", "setting", "k", "seed", "halt", "cycles",
                           "linear_top1", "nmi_labels", "total_s"]]), ""]
    lines += ["Training curves of the continuous runs (a halted run follows its twin up to its "
              "halt, then keeps its labels):", ""]
    for setting, group in deep[deep["halt"] == 0].groupby("setting", sort=True):
        name = setting.replace("/", "-")
        for metric, label in (("nmi_labels", "NMI(pseudo-labels, true labels)"),
                              ("nmi_prev", "NMI(p_t, p_t-1)")):
            _write(out / f"{name}-{metric}.svg",
                   line_chart(_curves(metrics, list(group["run"]), metric),
                              f"{setting}: {label}", "cycle", label))
            lines += [f"![{setting} {metric}]({name}-{metric}.svg)", ""]

    lines += ["## 1. Initial filter quality x K", "", f"**Paper:** {CLAIMS['interplay']}", "",
              "k-means on the features of the *untrained* network, per init seed and K "
              "(NMI with the true labels, mean per-cluster label entropy in bits, silhouette):",
              "", _table(quality[["setting", "seed", "k", "nmi", "nmi_labelled",
                                  "entropy_mean", "inertia", "silhouette"]]), ""]
    for setting, group in quality.groupby("setting", sort=True):
        name = setting.replace("/", "-")
        series = {f"seed {s}": list(zip(g["k"].astype(float), g["nmi"], strict=True))
                  for s, g in group.groupby("seed", sort=True)}
        _write(out / f"{name}-random-quality.svg",
               line_chart(series, f"{setting}: random-filter NMI by K", "K", "NMI"))
        lines += [f"![{setting} random quality]({name}-random-quality.svg)", ""]
    lines += ["The random network's NMI by K (mean over seeds, t-interval), and each K against "
              "the smallest, paired by seed:", "", *_effects(effects["quality"], spread),
              "Final top-1 by K, paired by seed (continuous runs):", "",
              *_effects(effects["k"], spread),
              "Initial quality against the outcome: Spearman rho of the random network's NMI "
              "at a run's own seed and K with its final top-1 (continuous runs, all K and "
              "seeds; seed-bootstrap interval):", "", *_effects(effects["interplay"], spread),
              "Trained runs next to the initial quality at their own seed and K:", "",
              _table(interplay), ""]
    for setting, group in interplay[interplay["halt"] == 0].groupby("setting", sort=True):
        lines.append(f"- **{setting}, measured:** " + _by_k(group) + ".")
    lines += ["", "## 2. Halted vs continuous clustering", "", f"**Paper:** {CLAIMS['halt']}", ""]
    if halted.empty:
        lines += ["No halted run has a continuous twin in this grid.", ""]
    else:
        lines += ["Each halted run next to its continuous twin (same data, init seed and first "
                  "cycles). Times are training seconds (features + k-means + SGD passes) on a "
                  "shared CPU; the features + k-means seconds are the work halting removes.", "",
                  _table(halted), "",
                  "Top-1 of the halted run minus its twin's, averaged over the seeds:", "",
                  *_effects(effects["halting"], spread)]
        for setting, group in halted.groupby("setting", sort=True):
            name = setting.replace("/", "-")
            means = group.groupby(["k", "halt"])["difference"].mean().reset_index()
            series = {f"K={k}": list(zip(g["halt"].astype(float), g["difference"], strict=True))
                      for k, g in means.groupby("k", sort=True)}
            _write(out / f"{name}-halting.svg",
                   line_chart(series, f"{setting}: top-1 halted - continuous (mean over seeds)",
                              "halt cycle", "top-1 difference"))
            saved = 1 - group["time_halted_s"].sum() / group["time_continuous_s"].sum()
            lines += [f"![{setting} halting]({name}-halting.svg)", "",
                      f"- **{setting}, time:** the halted runs took {saved:.0%} less training "
                      f"time than their twins in all (features + k-means "
                      f"{group['cluster_s_halted'].sum():.1f} s vs "
                      f"{group['cluster_s_continuous'].sum():.1f} s).", ""]
    lines += ["## 3. Semi-supervised selection", "", f"**Paper:** {CLAIMS['selection']}", "",
              "Signals, from the labels of a small labelled subset of the training split: "
              "`random_nmi` = NMI of the cycle-0 clusters (k-means on the random network), "
              f"`early_nmi` = NMI of the pseudo-labels at cycle {early_cycle}. Spearman rho with "
              "the final linear-probe top-1 across the DeepCluster runs of each setting (all K, "
              "halt cycles and seeds), 95% interval from resampling whole seeds (none below 5 "
              "seeds); regret = top-1 lost by picking the run with the best signal. A halted "
              "run reads the same signal as its continuous twin when the signal's cycle is "
              "before the halt (the runs are identical up to it); such tied duplicates are left "
              "out (`twins_dropped`).", ""]
    shown = selection.assign(machine_spread=[_spread_of("rho", spread)] * len(selection))
    lines += [_table(shown), ""]
    for row in shown.itertuples(index=False):
        dropped = (f" ({row.twins_dropped} halted twin(s) left out)" if row.twins_dropped
                   else "")
        lines.append(f"- **{row.setting}, `{row.signal}`:** rho = {row.rho:+.3f} "
                     f"{_interval(row, 3)} over n = {row.n} runs, "
                     f"{row.seeds} seeds{dropped}, regret {row.regret:.4f}; {row.verdict} "
                     f"(across machines: {row.machine_spread}).")
    for setting, group in deep.groupby("setting", sort=True):
        name = setting.replace("/", "-")
        series = {signal: list(zip(group[signal], group["linear_top1"], strict=True))
                  for signal in ("random_nmi", "early_nmi")}
        _write(out / f"{name}-selection.svg",
               line_chart(series, f"{setting}: signal vs final top-1",
                          "signal (NMI, labelled subset)", "linear top-1", lines=False))
        lines += ["", f"![{setting} selection]({name}-selection.svg)"]
    lines += ["", "## 4. DeepCluster vs the random and supervised networks", "",
              f"**Claim (Caron et al., the method's paper):** {CLAIMS['anchors']}", "",
              "Linear-probe top-1 of each DeepCluster run next to the random network (the same "
              "net, untrained) and the supervised one, trained on the same data with the same "
              "net; `vs_*` = the run's top-1 minus the anchor's.", "", _table(anchors), ""]
    lines += [f"- **{setting}, measured:** {_anchor_verdict(group)}"
              for setting, group in anchors.groupby("setting", sort=True)]
    _write(out / JUDGED, judged.to_csv(index=False))
    path = out / "README.md"
    _write(path, "\n".join(lines) + "\n")
    return path


JUDGED = "effects.csv"  # every judged effect of a report, for comparing builds and machines


def judged_effects(effects: dict[str, pd.DataFrame], selection: pd.DataFrame,
                   spread: dict | None) -> pd.DataFrame:
    """One row per effect the report judges (its estimate, 95% interval and verdict, and the
    cross-machine spread quoted next to it): what ``benchmarks/compare_studies.py`` compares
    between two builds of the study, e.g. the same commit on two machines."""
    columns = ["setting", "effect", "n", "estimate", "ci_low", "ci_high", "verdict",
               "machine_spread"]
    frames = [frame.rename(columns={"mean": "estimate"}) for frame in effects.values()
              if not frame.empty]
    if not selection.empty:
        frames.append(selection.assign(effect="rho(" + selection["signal"] + ", final top-1)")
                      .rename(columns={"rho": "estimate"}))
    if not frames:
        return pd.DataFrame(columns=columns)
    judged = pd.concat(frames, ignore_index=True)
    judged = judged[judged["verdict"].astype(bool)]
    judged = judged.assign(machine_spread=[_spread_of(e, spread) for e in judged["effect"]])
    return judged[columns].reset_index(drop=True)
