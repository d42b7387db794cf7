"""Study grids: a named configuration of the DeepCluster study that expands into runs, and the
one command that trains them all (``python stages/study.py --grid powered``).

A grid crosses, for each data/net setting, its values of K with init seeds; each (setting, K,
seed) cell is one *continuous* run (re-clustering every cycle) and its *halted twins*, the same
run with ``halt_clustering = h`` for every halt cycle h. A twin shares the continuous run's data,
init and first h cycles, so it is branched off the continuous run's state after them
(``lce.train.trainer.train(branches=...)``) instead of being trained again from cycle 0: a cell
costs cycles + sum(cycles - h) training passes and only ``cycles`` k-means runs.

Why a named grid run by one command and not a DVC experiment queue or a params preset: the
powered grid has hundreds of runs; as ``train@`` stages each would be its own process, load the
data again and retrain the shared cycles (DVC has no notion of one run branching off another),
and putting them in ``deepcluster.runs`` would put them in the default ``dvc repro``, which must
stay under 15 minutes. The grid's runs are ordinary :class:`DeepClusterRun` s on top of
``deepcluster.defaults``, written in the same layout as ``train@``, and read by the same study
code as the default build, so its report is the study stage's report at another size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

from lce.errors import LCEError
from lce.params import DeepClusterRun
from lce.progress import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Setting:
    """One data/net setting of a grid: its overrides of ``deepcluster.defaults`` and its K."""
    name: str  # key prefix of its runs (dot-free)
    overrides: tuple[tuple[str, object], ...]
    ks: tuple[int, ...]


@dataclass(frozen=True)
class StudyGrid:
    settings: tuple[Setting, ...]
    seeds: tuple[int, ...]
    halts: tuple[int, ...]  # halt cycles of the halted twins (each < cycles)
    cycles: int
    random_anchors: bool = True  # an untrained network per setting and seed (probe only)


def _setting(name: str, ks, **overrides) -> Setting:
    return Setting(name, tuple(sorted(overrides.items())), tuple(ks))


# The powered study (issue 18): every offline dataset, 3 K, 5 init seeds, halting at cycles 1-4
# each paired with its continuous twin; sized to run in about 45 minutes on 2 shared cores.
# Shrunk from the default build: 2,000 images of mnist5k and animals (1,600 train / 400
# held-out), 1,000 synthetic scenes at 32 px with a width-16 small_alexnet, 5 cycles.
GRIDS = {
    "powered": StudyGrid(
        settings=(
            _setting("mnist", (10, 20, 50), dataset="mnist5k", n_images=2000),
            _setting("animals", (10, 20, 50), dataset="animals", n_images=2000),
            _setting("syn", (8, 16, 32), dataset="synthetic", n_images=1000,
                     arch="small_alexnet", width=16, batch_norm=True),
        ),
        seeds=(0, 1, 2, 3, 4), halts=(1, 2, 3, 4), cycles=5),
    # the same shape in seconds: what the end-to-end test and a first look run
    "tiny": StudyGrid(
        settings=(_setting("mnist", (4, 8), dataset="mnist5k", n_images=200, labelled=40,
                           pca_dims=8, kmeans_iter=5),),
        seeds=(0, 1, 2), halts=(1, 2), cycles=3, random_anchors=True),
}


@dataclass(frozen=True)
class Cell:
    """One continuous run and its halted twins (branched off it)."""
    continuous: DeepClusterRun
    halted: tuple[DeepClusterRun, ...]

    @property
    def runs(self) -> tuple[DeepClusterRun, ...]:
        return (self.continuous, *self.halted)


def grid_named(name: str) -> StudyGrid:
    if name not in GRIDS:
        raise LCEError(f"study grid {name!r}: no such grid", hint=f"grids: {', '.join(GRIDS)}")
    return GRIDS[name]


def expand(grid: StudyGrid, defaults: DeepClusterRun) -> tuple[list[Cell], dict]:
    """(the cells, every run by key: cells' runs and the random anchors), keys like
    ``mnist-k10-s0`` and ``mnist-k10-s0-h2``."""
    if any(not 0 < h < grid.cycles for h in grid.halts):
        raise LCEError(f"study grid: halt cycles {grid.halts} must be in 1..{grid.cycles - 1}")
    cells, runs = [], {}
    for setting in grid.settings:
        base = replace(defaults, cycles=grid.cycles, halt_clustering=0,
                       **dict(setting.overrides))
        for k in setting.ks:
            for seed in grid.seeds:
                key = f"{setting.name}-k{k}-s{seed}"
                continuous = replace(base, key=key, k=k, seed=seed).validate(key)
                halted = tuple(replace(continuous, key=f"{key}-h{h}", halt_clustering=h)
                               for h in grid.halts)
                cells.append(Cell(continuous, halted))
        if grid.random_anchors:
            for seed in grid.seeds:
                key = f"{setting.name}-random-s{seed}"
                runs[key] = replace(base, key=key, method="random", seed=seed)
    for cell in cells:
        runs.update({run.key: run for run in cell.runs})
    return cells, dict(sorted(runs.items()))


@lru_cache(maxsize=4)
def _data(run: DeepClusterRun):
    """A setting's training data, loaded once per worker process (``run`` with its K, seed and
    method blanked is the cache key: every run of a setting draws the same images, split and
    labelled subset)."""
    from lce.train.datasets import load_training_data

    return load_training_data(run)


def _done(runs, root: Path) -> bool:
    """Whether every run already has its artifacts from these very params (a restart skips it)."""
    from lce.train.run import run_params

    for run in runs:
        path = Path(root) / run.key
        if not (path / "summary.json").is_file() or not (path / "run.json").is_file():
            return False
        if json.loads((path / "run.json").read_text()) != json.loads(
                json.dumps(run_params(run))):
            return False
    return True


def train_cell(runs: tuple[DeepClusterRun, ...], root: str) -> float:
    """Train a continuous run with its halted twins branched off it (or one anchor run) and
    write each under ``root/<key>/``; returns the wall seconds."""
    from lce.threads import cpu_threads
    from lce.train.run import write_run
    from lce.train.trainer import train

    started, root = time.perf_counter(), Path(root)
    if _done(runs, root):
        return 0.0
    first, halted = runs[0], runs[1:]
    data = _data(replace(first, key="", k=2, seed=0, method="deepcluster"))
    with cpu_threads(1):
        result = train(first, data, branches=halted)
        write_run(first, data, result, root / first.key)
        for run in halted:
            write_run(run, data, result.branches[run.key], root / run.key)
    return time.perf_counter() - started


def run_grid(cells: list[Cell], runs: dict, root: Path, workers: int = 2) -> dict:
    """Train every cell and anchor of a grid under ``root`` in ``workers`` processes (one thread
    each; the largest cells first), skipping runs already trained from the same params. The
    wall time of every pass that trained something is added up in ``root/grid-timing.json``
    (a restart resumes, and a report rerun costs no training); returns that record."""
    started = time.perf_counter()
    anchors = [(run,) for run in runs.values() if run.method != "deepcluster"]
    jobs = sorted([cell.runs for cell in cells] + anchors,
                  key=lambda job: -(job[0].k * len(job)))
    if workers <= 1:
        trained = sum(train_cell(job, str(root)) > 0 for job in jobs)
    else:
        trained = 0
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            for i, seconds in enumerate(pool.map(train_cell, jobs, [str(root)] * len(jobs))):
                trained += seconds > 0
                if (i + 1) % 10 == 0 or i + 1 == len(jobs):
                    log.info("study grid: %d of %d cells done (%.0f s)", i + 1, len(jobs),
                             time.perf_counter() - started)
    return _kept_timing(Path(root) / "grid-timing.json", started, bool(trained), workers=workers)


def _kept_timing(path: Path, started: float, trained: bool, **fields) -> dict:
    """The wall time of every pass that trained something, added up in ``path`` (a restart
    resumes, a report rerun trains nothing and keeps the figure); returns the record."""
    from lce.io import write_json

    record = json.loads(path.read_text()) if path.is_file() else {"wall_s": 0.0, "passes": 0}
    if trained:
        record = {"wall_s": round(record["wall_s"] + time.perf_counter() - started, 1),
                  "passes": record.get("passes", 0) + 1, **fields}
        write_json(record, path)
    return record


_OTHER_DISPATCH_TRAIN = """
import sys
from lce.params import DeepClusterRun
from lce.train.grid import train_cell
runs = tuple(DeepClusterRun(**r) for r in __import__("json").loads(sys.argv[1]))
train_cell(runs, sys.argv[2])
"""


def train_under_other_dispatch(cells: list[Cell], root: Path, settings: dict) -> dict:
    """Train ``cells`` again, each in a fresh process (two at a time) whose kernel dispatch is
    ``settings`` (what another CPU would run), under ``root``: the spread between the two is
    what varies between machines. Cells already trained there are skipped; the wall time of the
    passes that trained is kept in ``root/timing.json`` and returned (``{"wall_s": ...}``)."""
    from dataclasses import asdict

    from lce.train.reproducible import PINNED

    env = {k: v for k, v in os.environ.items() if k not in PINNED} | settings
    started = time.perf_counter()
    pending, running = [cell for cell in cells if not _done(cell.runs, root)], []
    trained = bool(pending)
    while pending or running:
        while pending and len(running) < 2:
            cell = pending.pop(0)
            running.append((cell, subprocess.Popen(
                [sys.executable, "-c", _OTHER_DISPATCH_TRAIN,
                 json.dumps([asdict(run) for run in cell.runs]), str(root)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        cell, process = running.pop(0)
        _, stderr = process.communicate()
        if process.returncode:
            raise LCEError(f"training {cell.continuous.key} under another dispatch failed: "
                           f"{stderr.strip().splitlines()[-1:]}")
    return _kept_timing(Path(root) / "timing.json", started, trained)
