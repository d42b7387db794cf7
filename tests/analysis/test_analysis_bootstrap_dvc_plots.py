"""Plot data for `dvc plots` (lce.dvcplots) and the top-level `plots:` of dvc.yaml: the files the
study and analyze stages write, and `dvc plots show` rendering every declared plot from them."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from lce.dvcplots import CURVES, write_lce_scatter, write_training_curves

ROOT = Path(__file__).resolve().parents[2]


def metrics_frame():
    rows = []
    for run in ("b-run", "a-run"):
        for cycle in range(3):
            rows += [(run, cycle, "nmi_labels", 0.1 * cycle), (run, cycle, "loss", 2.0 - cycle),
                     (run, cycle, "entropy_mean", 1.0)]
            if cycle:
                rows.append((run, cycle, "nmi_prev", 0.5 + cycle / 10))
    return pd.DataFrame(rows, columns=["run", "cycle", "metric", "value"])


def read(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_training_curves_one_file_per_curve_rows_by_run(tmp_path):
    paths = write_training_curves(metrics_frame(), tmp_path / "curves")
    assert [p.name for p in paths] == [f"{m}.csv" for m in CURVES]
    prev = read(tmp_path / "curves" / "nmi_prev.csv")
    assert prev[0] == ["run", "cycle", "nmi_prev"]
    assert [r[:2] for r in prev[1:]] == [["a-run", "1"], ["a-run", "2"], ["b-run", "1"],
                                         ["b-run", "2"]]   # no row at cycle 0
    assert float(prev[1][2]) == 0.6
    assert len(read(tmp_path / "curves" / "loss.csv")) == 1 + 6


def test_scatter_leaves_missing_components_empty(tmp_path):
    path = write_lce_scatter([("m1", 1, 0.5, -0.25, None), ("m2", 2, -0.5, 0.25, None)],
                             tmp_path / "s.csv")
    assert read(path) == [["model", "category", "pc1", "pc2", "pc3"],
                          ["m1", "1", "0.5", "-0.25", ""], ["m2", "2", "-0.5", "0.25", ""]]


def test_dvc_plots_show_renders_every_declared_plot(tmp_path):
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "--no-scm", "-q"], cwd=tmp_path, env=env, check=True)
    shutil.copytree(ROOT / ".dvc" / "plots", tmp_path / ".dvc" / "plots", dirs_exist_ok=True)
    write_training_curves(metrics_frame(), tmp_path / "data/study/curves")
    write_lce_scatter([("m1", 1, 0.5, -0.25, 0.0), ("m2", 2, -0.5, 0.25, 0.0)],
                      tmp_path / "data/analysis/lce-scatter.csv")
    shown = subprocess.run([*dvc, "plots", "show", "--json"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert not report.get("errors"), report["errors"]
    plots = report["data"]
    assert set(plots) == {f"data/study/curves/{m}.csv" for m in CURVES} | {
        "data/analysis/lce-scatter.csv"}
    curve = plots["data/study/curves/loss.csv"][0]["content"]
    assert curve["encoding"]["color"]["field"] == "run"          # one line per run
    assert len(curve["data"]["values"]) == 6
    scatter = plots["data/analysis/lce-scatter.csv"][0]["content"]
    assert scatter["encoding"]["color"]["field"] == "category"
