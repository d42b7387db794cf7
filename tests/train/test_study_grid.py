"""Study grids (lce.train.grid): the expansion into continuous runs and their halted twins, the
halted twins branched off their continuous run equal to training them from scratch, and the
whole study command on a grid of seconds."""

import json
import math
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from lce.errors import LCEError
from lce.params import DeepClusterRun
from lce.train.datasets import load_training_data
from lce.train.effects import NO_EFFECT
from lce.train.grid import GRIDS, StudyGrid, _setting, expand, grid_named
from lce.train.run import write_run
from lce.train.trainer import train
from tests.support.project import TINY_PARAMS, copy_project

DEFAULTS = DeepClusterRun()


def test_powered_grid_has_the_issue_s_shape():
    grid = grid_named("powered")
    cells, runs = expand(grid, DEFAULTS)
    datasets = {run.dataset for run in runs.values()}
    assert datasets == {"mnist5k", "animals", "synthetic"}
    assert len(grid.seeds) >= 5 and grid.halts == (1, 2, 3, 4)
    for dataset in datasets:
        continuous = [c.continuous for c in cells if c.continuous.dataset == dataset]
        assert len({run.k for run in continuous}) >= 3
        assert len(continuous) == len({run.k for run in continuous}) * len(grid.seeds)
    assert {(r.dataset, r.k) for r in runs.values()} >= {("mnist5k", 10), ("synthetic", 8)}


def test_expansion_counts_keys_and_twins():
    grid = StudyGrid(settings=(_setting("a", (4, 8), n_images=100),
                               _setting("b", (3,), dataset="animals")),
                     seeds=(0, 1, 2), halts=(1, 3), cycles=4)
    cells, runs = expand(grid, DEFAULTS)
    assert len(cells) == (2 + 1) * 3
    assert len(runs) == len(cells) * 3 + 2 * 3  # + a random anchor per setting and seed
    cell = next(c for c in cells if c.continuous.key == "a-k8-s2")
    assert [r.key for r in cell.halted] == ["a-k8-s2-h1", "a-k8-s2-h3"]
    for twin in cell.halted:   # a twin differs from its continuous run in the halt alone
        assert replace(twin, key=cell.continuous.key, halt_clustering=0) == cell.continuous
    assert cell.continuous.halt_clustering == 0 and cell.continuous.cycles == 4
    assert cell.continuous.k == 8 and cell.continuous.seed == 2
    assert cell.continuous.n_images == 100
    assert runs["b-random-s1"].method == "random" and runs["b-random-s1"].seed == 1
    assert {r.seed for r in runs.values()} == {0, 1, 2}
    with pytest.raises(LCEError, match="halt cycles"):
        expand(replace(grid, halts=(4,)), DEFAULTS)
    with pytest.raises(LCEError, match="no such grid"):
        grid_named("huge")


TINY = DeepClusterRun(key="c", dataset="mnist5k", n_images=200, k=6, cycles=4, pca_dims=8,
                      kmeans_iter=5, labelled=40, batch_size=32)


def test_branched_halted_twins_equal_training_them_from_scratch(tmp_path):
    data = load_training_data(TINY)
    twins = [replace(TINY, key=f"c-h{h}", halt_clustering=h) for h in (1, 3)]
    result = train(TINY, data, branches=twins)
    write_run(TINY, data, result, tmp_path / "branched" / TINY.key)
    alone = train(TINY, data)
    write_run(TINY, data, alone, tmp_path / "alone" / TINY.key)
    for twin in twins:
        write_run(twin, data, result.branches[twin.key], tmp_path / "branched" / twin.key)
        write_run(twin, data, train(twin, data), tmp_path / "alone" / twin.key)
    for run in (TINY, *twins):
        for name in ("metrics.parquet", "model/model.pt", "summary.json"):
            assert (tmp_path / "branched" / run.key / name).read_bytes() == \
                (tmp_path / "alone" / run.key / name).read_bytes(), (run.key, name)
    metrics = pd.read_parquet(tmp_path / "branched" / "c-h1" / "metrics.parquet")
    halted = metrics[metrics["metric"] == "halted"].set_index("cycle")["value"]
    assert halted.tolist() == [0, 1, 1, 1]
    with pytest.raises(LCEError, match="not a halted variant"):
        train(TINY, data, branches=[replace(TINY, key="x", halt_clustering=1, k=7)])


@pytest.mark.slow
def test_study_command_on_a_grid_of_seconds(tmp_path):
    """``stages/study.py --grid tiny`` in a copy of the project: every run trained, the spread
    measured, the report written with an interval and a verdict for every effect."""
    project = copy_project(tmp_path / "p", TINY_PARAMS)
    done = subprocess.run([sys.executable, "stages/study.py", "--grid", "tiny", "--workers", "1"],
                          cwd=project, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = project / "data" / "study-tiny"
    cells, runs = expand(GRIDS["tiny"], DEFAULTS)
    assert sorted(p.name for p in (out / "train").iterdir() if p.is_dir()) == sorted(runs)
    assert json.loads((out / "train" / "grid-timing.json").read_text())["wall_s"] > 0
    halting = pd.read_parquet(out / "effects_halting.parquet")
    grid = GRIDS["tiny"]
    assert len(halting) == len(grid.settings[0].ks) * len(grid.halts)
    assert (halting["n"] == len(grid.seeds)).all()
    pairs = pd.read_parquet(out / "halted_pairs.parquet")
    assert len(pairs) == len(cells) * len(grid.halts)
    assert (pairs["continuous"] + "-h" + pairs["halt"].astype(str) == pairs["halted"]).all()
    text = (out / "report" / "README.md").read_text()
    assert "python stages/study.py --grid tiny" in text and "Between machines, measured" in text
    # 3 seeds: t-intervals exist, the seed bootstrap does not (below 5 seeds)
    assert all(math.isfinite(v) for v in halting["ci_low"])
    selection = pd.read_parquet(out / "selection.parquet")
    assert selection["ci_low"].isna().all() and (selection["verdict"] == NO_EFFECT).all()
