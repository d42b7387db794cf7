"""`lce deepcluster runs|curve|select` on a warehouse built here from runs' Parquet files."""

import json

import duckdb
import pandas as pd
import pytest

from lce.contracts import TRAINING_METRICS
from lce.warehouse.database import create_schema
from tests.support.cli import run_lce

# run -> (method, k, seed, nmi_labelled at cycle 0, final linear_top1)
RUNS = {"dc-a": ("deepcluster", 10, 0, 0.30, 0.70), "dc-b": ("deepcluster", 10, 1, 0.40, 0.80),
        "dc-c": ("deepcluster", 50, 0, 0.50, 0.75), "dc-d": ("deepcluster", 50, 1, 0.60, 0.90),
        "sup": ("supervised", 10, 0, None, 0.95)}


def load_training_tables(db, run_dirs):
    """What the warehouse build does with training runs: run.json and metrics.parquet."""
    con = duckdb.connect(str(db))
    create_schema(con)
    for folder in run_dirs:
        params = json.loads((folder / "run.json").read_text())
        con.execute("insert into training_runs values (?, ?, ?)",
                    [folder.name, params["method"], json.dumps(params)])
        con.execute("insert into training_metrics select * from read_parquet(?)",
                    [str(folder / "metrics.parquet")])
    con.close()
    return db


def write_run(root, run, method, k, seed, signal, top1, halt=0):
    """A run's folder: per-cycle metrics (signal at cycle 0, 1 - signal at cycle 1) and run.json."""
    rows = [(run, c, "nmi_labels", 0.1 * c) for c in range(3)]
    rows += [(run, c, "nmi_prev", 0.5 + 0.1 * c) for c in range(1, 3)]
    if signal is not None:
        rows += [(run, 0, "nmi_labelled", signal), (run, 1, "nmi_labelled", 1 - signal)]
    rows.append((run, 2, "linear_top1", top1))
    folder = root / run
    metrics = pd.DataFrame(rows, columns=TRAINING_METRICS.names)
    TRAINING_METRICS.write(TRAINING_METRICS.frame(metrics), folder / TRAINING_METRICS.artifact)
    (folder / "run.json").write_text(json.dumps(
        {"method": method, "dataset": "mnist5k", "arch": "lenet", "k": k, "seed": seed,
         "halt_clustering": halt}))
    return folder


@pytest.fixture(scope="module")
def training_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    folders = [write_run(root, run, *spec) for run, spec in RUNS.items()]
    return load_training_tables(tmp_path_factory.mktemp("wh") / "lce.duckdb", folders)


def lce(db, *args, **kwargs):
    return run_lce("--db", str(db), "deepcluster", *args, **kwargs)


def test_runs_lists_every_run_with_final_figures(training_db):
    result = lce(training_db, "runs", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["run"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(RUNS)
    assert rows["dc-d"]["linear_top1"] == 0.9 and rows["dc-d"]["k"] == 50
    assert rows["dc-a"]["nmi_labels"] == pytest.approx(0.2) and rows["dc-a"]["cycles"] == 3
    assert rows["dc-a"]["setting"] == "mnist5k/lenet"
    only = lce(training_db, "runs", "--method", "supervised", "-f", "csv")
    assert only.stdout.splitlines()[1].startswith("sup,supervised")


def test_curve_writes_an_svg_and_prints_the_values(training_db, tmp_path):
    plot = tmp_path / "curve.svg"
    result = lce(training_db, "curve", "dc-a", "--plot", str(plot), "-f", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["cycle,nmi_labels,nmi_prev", "0,0.0,",
                                          "1,0.1,0.6", "2,0.2,0.7"]
    svg = plot.read_text()
    assert svg.startswith("<svg")
    # one line per metric, in the palette's first two colours
    assert "stroke: #1f77b4" in svg and "stroke: #d62728" in svg and "stroke: #2ca02c" not in svg


def test_curve_without_plot_writes_no_file(training_db, tmp_path):
    result = lce(training_db, "curve", "dc-a", "-f", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "cycle,nmi_labels,nmi_prev"
    assert list(tmp_path.iterdir()) == [] and "plot" not in result.stderr


def test_unknown_method_is_an_error(training_db):
    result = lce(training_db, "runs", "--method", "supervized")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: no training run of method 'supervized'")
    assert "deepcluster, supervised" in result.stderr  # the hint lists those there


def test_curve_errors_are_one_line(training_db, tmp_path):
    result = lce(training_db, "curve", "nope", "--plot", str(tmp_path / "x.svg"))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: no training run 'nope' in the warehouse")
    result = lce(training_db, "curve", "dc-a", "-m", "accuracy", "--plot", str(tmp_path / "x.svg"))
    assert result.returncode == 1 and "has no metric 'accuracy'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.svg").exists()


def test_select_ranks_by_signal_and_reports_spearman(training_db):
    result = lce(training_db, "select", "-f", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "setting,rank,run,signal,linear_top1,top1_rank"
    assert [line.split(",")[2] for line in lines[1:]] == ["dc-d", "dc-c", "dc-b", "dc-a"]
    # signal order d,c,b,a vs top-1 order d,b,c,a: rho = 1 - 6*2/(4*15) = 0.8
    assert "mnist5k/lenet: Spearman rho = 0.800" in result.stderr
    assert "regret 0.0000" in result.stderr
    # at cycle 1 the signal is reversed: rho = -0.8
    reverse = lce(training_db, "select", "--cycle", "1")
    assert "rho = -0.800" in reverse.stderr and "regret 0.2000" in reverse.stderr


def test_select_leaves_out_halted_twins_before_their_halt(tmp_path):
    runs = {"a": (0.3, 0.6, 0), "b": (0.4, 0.7, 0), "c": (0.5, 0.8, 0), "a-halt": (0.3, 0.9, 1)}
    folders = [write_run(tmp_path, run, "deepcluster", 10 + 10 * (run == "b")
                         + 20 * (run == "c"), 0, signal, top1, halt)
               for run, (signal, top1, halt) in runs.items()]
    db = load_training_tables(tmp_path / "lce.duckdb", folders)
    at_start = lce(db, "select", "--cycle", "0")
    assert "rho = 1.000" in at_start.stderr and "n = 3" in at_start.stderr
    assert "left out (halted after cycle 0, identical to a continuous twin until then): a-halt" \
        in at_start.stderr
    after_halt = lce(db, "select", "--cycle", "1")   # cycle 1 is the halt: the runs differ
    assert "n = 4" in after_halt.stderr and "left out" not in after_halt.stderr


def test_halted_twins_need_the_same_settings():
    from lce.train.selection import halted_twins

    params = {"a": {"k": 10, "halt_clustering": 0}, "a-halt": {"k": 10, "halt_clustering": 2},
              "b-halt": {"k": 50, "halt_clustering": 2}}
    assert halted_twins(params) == {"a-halt": 2}


def test_select_without_signal_is_an_error(training_db):
    result = lce(training_db, "select", "--signal", "bogus")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: no DeepCluster run has both 'bogus' at cycle 0")
