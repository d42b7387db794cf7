"""DVC stage `study`: the hyper-parameter study over all runs of ``deepcluster.runs``.

Measures the quality of the random initial filters (per setting, init seed and K), pairs halted
with continuous runs, compares DeepCluster with its random and supervised anchors, scores the
cheap selection signals, and writes data/study/*.parquet and
the report (markdown + SVG plots) to data/study/report/; docs/deepcluster-study/ holds a
copy of the default build's report for readers of the repository.
"""

import sys
from pathlib import Path

from lce.io import write_parquet
from lce.params import deepcluster_runs, deepcluster_study, load_params
from lce.progress import get_logger
from lce.stage import stage_main

REPORT = Path("data/study/report")  # a cached output: the run-cache restores it like the rest
log = get_logger("lce.stages.study")


@stage_main
def main() -> None:
    import pandas as pd

    from lce.dvcplots import write_training_curves
    from lce.train.random_quality import QUALITY_COLUMNS, random_filter_quality, setting_of
    from lce.train.report import write_report
    from lce.train.study import (
        anchor_comparison,
        halted_pairs,
        quality_vs_accuracy,
        run_table,
        selection_table,
    )

    params = load_params()
    runs, study = deepcluster_runs(params), deepcluster_study(params)
    table, metrics = run_table(runs, Path("data/train"), study.early_cycle)
    settings: dict[tuple, tuple] = {}
    for run in runs.values():
        if run.method == "deepcluster":
            first, seeds = settings.get(setting_of(run), (run, set()))
            settings[setting_of(run)] = (first, seeds | {run.seed})
    quality_rows = []
    for run, seeds in settings.values():
        # the study's K plus every K the setting was trained with, so each run has its own row
        ks = sorted(set(study.ks) | {r.k for r in runs.values() if r.method == "deepcluster"
                                     and setting_of(r) == setting_of(run)})
        log.info("random-filter quality: %s/%s seeds %s, K %s", run.dataset, run.arch,
                 sorted(seeds), ks)
        quality_rows += random_filter_quality(run, ks, sorted(seeds))
    quality = pd.DataFrame(quality_rows, columns=QUALITY_COLUMNS)
    interplay = quality_vs_accuracy(table, quality)
    halted = halted_pairs(runs, table)
    selection = selection_table(table, halted, study.early_cycle)
    anchors = anchor_comparison(runs, table)
    out = Path("data/study")
    write_parquet(quality, out / "random_quality.parquet")
    write_parquet(selection, out / "selection.parquet")
    write_parquet(anchors, out / "anchors.parquet")
    write_training_curves(metrics, out / "curves")  # per-run curves for dvc plots
    report = write_report(REPORT, table, metrics, quality, interplay, halted,
                          selection, anchors, study.early_cycle)
    log.info("study report: %s", report)


if __name__ == "__main__":
    sys.exit(main())
