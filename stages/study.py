"""DVC stage `study`: the hyper-parameter study over all runs of ``deepcluster.runs``; and, with
``--grid NAME``, a named study grid of ``lce.train.grid`` (the powered study: ``--grid
powered``), trained and reported outside the default ``dvc repro``.

Measures the quality of the random initial filters (per setting, init seed and K), pairs halted
with continuous runs, compares DeepCluster with its random and supervised anchors, scores the
cheap selection signals, each effect with its interval across seeds, and writes
data/study/*.parquet and the report (markdown + SVG plots) to data/study/report/ (a grid:
data/study-<grid>/, its runs under data/study-<grid>/train/); docs/deepcluster-study/ holds a
copy of the powered study's report for readers of the repository.
"""

import argparse
import sys
from pathlib import Path

from lce.io import write_parquet
from lce.params import TRAIN_ROOT, deepcluster_runs, deepcluster_study, load_params, typed_section
from lce.progress import get_logger
from lce.stage import stage_main

REPORT = Path("data/study/report")  # a cached output: the run-cache restores it like the rest
log = get_logger("lce.stages.study")


def study(runs: dict, study_params, train_root: Path, out: Path, report: Path, source: str = "",
          spread: dict | None = None) -> Path:
    """Every table of the study from the runs' artifacts under ``train_root``, written under
    ``out``, and the report under ``report``."""
    import pandas as pd

    from lce.dvcplots import write_training_curves
    from lce.train.random_quality import QUALITY_COLUMNS, random_filter_quality, setting_of
    from lce.train.report import write_report
    from lce.train.study import (
        anchor_comparison,
        halted_pairs,
        halting_effects,
        interplay_correlation,
        k_effects,
        quality_by_k,
        quality_vs_accuracy,
        run_table,
        selection_table,
    )

    table, metrics = run_table(runs, train_root, study_params.early_cycle)
    settings: dict[tuple, tuple] = {}
    for run in runs.values():
        if run.method == "deepcluster":
            first, seeds = settings.get(setting_of(run), (run, set()))
            settings[setting_of(run)] = (first, seeds | {run.seed})
    quality_rows = []
    for run, seeds in settings.values():
        # the study's K plus every K the setting was trained with, so each run has its own row
        ks = sorted(set(study_params.ks) | {r.k for r in runs.values()
                                            if r.method == "deepcluster"
                                            and setting_of(r) == setting_of(run)})
        log.info("random-filter quality: %s/%s seeds %s, K %s", run.dataset, run.arch,
                 sorted(seeds), ks)
        quality_rows += random_filter_quality(run, ks, sorted(seeds))
    quality = pd.DataFrame(quality_rows, columns=QUALITY_COLUMNS)
    interplay = quality_vs_accuracy(table, quality)
    halted = halted_pairs(runs, table)
    selection = selection_table(table, halted, study_params.early_cycle)
    anchors = anchor_comparison(runs, table)
    effects = {"halting": halting_effects(halted), "k": k_effects(table),
               "quality": quality_by_k(quality), "interplay": interplay_correlation(interplay)}
    write_parquet(quality, out / "random_quality.parquet")
    write_parquet(selection, out / "selection.parquet")
    write_parquet(anchors, out / "anchors.parquet")
    write_parquet(halted, out / "halted_pairs.parquet")
    for name, frame in effects.items():
        write_parquet(frame, out / f"effects_{name}.parquet")
    write_training_curves(metrics, out / "curves")  # per-run curves for dvc plots
    return write_report(report, table, metrics, quality, interplay, halted, selection, anchors,
                        study_params.early_cycle, effects, source, spread)


def machine_spread(runs: dict, pinned: Path, other: Path, early_cycle: int) -> dict:
    """Largest differences between the same runs trained under two kernel-dispatch settings:
    per summary column, and per per-cycle metric (``metrics``, by metric name: NMIs, loss and
    cluster sizes are on different scales, so one maximum over all of them would mean nothing)."""
    from lce.train.study import run_table

    a, metrics_a = run_table(runs, pinned, early_cycle)
    b, metrics_b = run_table(runs, other, early_cycle)
    joined = metrics_a.merge(metrics_b, on=["run", "cycle", "metric"])
    by_metric = (joined["value_x"] - joined["value_y"]).abs().groupby(joined["metric"]).max()
    return {"runs": len(a), "metrics": {m: float(v) for m, v in by_metric.items()},
            **{c: float((a[c] - b[c]).abs().max())
               for c in ("linear_top1", "random_nmi", "early_nmi")}}


def powered(name: str, workers: int) -> Path:
    """Train the grid ``name`` (skipping runs already trained from the same params), measure the
    cross-machine spread on one cell per setting, and write its tables and report."""
    from lce.params import DeepClusterRun
    from lce.train.grid import expand, grid_named, run_grid, train_under_other_dispatch
    from lce.train.reproducible import OLDER_CPU

    grid, params = grid_named(name), load_params()
    defaults = typed_section(DeepClusterRun, {"deepcluster.defaults":
                                              params["deepcluster"]["defaults"]},
                             "deepcluster.defaults")
    cells, runs = expand(grid, defaults)
    out = Path(f"data/study-{name}")
    log.info("study grid %s: %d runs in %d cells", name, len(runs), len(cells))
    timing = run_grid(cells, runs, out / "train", workers)
    firsts = {}  # the smallest-K cell of seed 0 in each setting
    for cell in cells:
        firsts.setdefault(cell.continuous.dataset, cell)
    other = out / "other-dispatch"
    spread_s = train_under_other_dispatch(list(firsts.values()), other, OLDER_CPU)["wall_s"]
    checked = {run.key: run for cell in firsts.values() for run in cell.runs}
    spread = machine_spread(checked, out / "train", other, deepcluster_study(params).early_cycle)
    source = (f"Generated by `python stages/study.py --grid {name}` (`lce.train.grid`: "
              f"{len(runs)} runs, {len(cells)} continuous runs each with {len(grid.halts)} "
              f"halted twins branched off it, {len(grid.seeds)} init seeds); training took "
              f"{timing['wall_s'] / 60:.1f} min of wall time on {timing.get('workers', workers)} "
              f"worker processes of a shared 2-core machine, the cross-machine check "
              f"{spread_s / 60:.1f} min.")
    study_params = deepcluster_study(params)
    return study(runs, type(study_params)(ks=(), early_cycle=study_params.early_cycle),
                 out / "train", out, out / "report", source, spread)


@stage_main
def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", help="train and report a named study grid (e.g. powered)")
    parser.add_argument("--workers", type=int, default=2, help="training processes (grid only)")
    args = parser.parse_args(argv)
    if args.grid:
        report = powered(args.grid, args.workers)
    else:
        params = load_params()
        report = study(deepcluster_runs(params), deepcluster_study(params), TRAIN_ROOT,
                       Path("data/study"), REPORT)
    log.info("study report: %s", report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
