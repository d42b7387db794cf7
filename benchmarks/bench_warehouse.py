"""Warehouse benchmark: build a 100-model x 2,048-unit warehouse, then time each CLI command cold.

"Cold" means a fresh ``lce`` process per call, as a user types it: interpreter start, imports,
opening the database and answering. Each command runs REPEATS times; the median is printed, with
the time spent inside the process on opening the warehouse and running the SQL for the canned
queries (measured separately in a fresh process).

    .venv/bin/python benchmarks/bench_warehouse.py [--models 100] [--units 2048]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = {"object": 580, "part": 230, "material": 30, "color": 11}
REPEATS = 3


def write_profiles(path: Path, n_models: int, n_units: int, seed: int = 0) -> None:
    """A seed-paper-format CSV: each model favours its own random subset of concepts."""
    rng = np.random.default_rng(seed)
    concepts = [(f"{cat}{i}", cat) for cat, n in CATEGORIES.items() for i in range(n)]
    with path.open("w") as f:
        f.write(",name,unit,iou,label,category\n")
        row = 0
        for m in range(n_models):
            weights = rng.dirichlet(np.full(len(concepts), 0.05))
            labels = rng.choice(len(concepts), size=n_units, p=weights)
            ious = rng.gamma(2.0, 0.03, size=n_units)
            lines = []
            for unit, (c, iou) in enumerate(zip(labels, ious, strict=True)):
                name, cat = concepts[c]
                lines.append(f"{row},Model{m:03d}(R),{unit},{iou:.5f},{name},{cat}\n")
                row += 1
            f.writelines(lines)


def write_benchmarks(path: Path, n_models: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as f:
        f.write("model,task,dataset,metric,value,higher_is_better\n")
        for m in range(n_models):
            for d in range(12):
                f.write(f"Model{m:03d},many-shot,D{d},top1-accuracy,{rng.uniform(40, 90):.2f},"
                        "true\n")


def lce(db: Path, *args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "lce", "--db", str(db), *args],
                            capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"lce {' '.join(args)} failed: {result.stderr}")
    return elapsed


IN_PROCESS = """
import sys, time
from lce.warehouse.canned import run_canned
from lce.warehouse.connect import open_readonly
start = time.perf_counter()
con = open_readonly(sys.argv[1])
run_canned(con, sys.argv[2], **eval(sys.argv[3]))
print(time.perf_counter() - start)
"""


def in_process(db: Path, name: str, params: dict) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(db), name, repr(params)],
                         capture_output=True, text=True, env=env, check=True).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--units", type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "lce.duckdb"
        write_profiles(tmp / "profiles.csv", args.models, args.units)
        write_benchmarks(tmp / "benchmarks.csv", args.models)
        build = lce(db, "import", "profiles", str(tmp / "profiles.csv"))
        lce(db, "import", "benchmarks", str(tmp / "benchmarks.csv"), "--format", "tidy")
        print(f"warehouse: {args.models} models x {args.units} units "
              f"({args.models * args.units:,} unit rows), {db.stat().st_size / 2**20:.1f} MiB; "
              f"import took {build:.2f} s")
        a, b = "resnet50-model000", "resnet50-model001"
        commands = {
            "query (units per model)": ["query", "select model, count(*) filter (where "
                                        "interpretable) as n from units group by model"],
            "query (top concepts)": ["query", "select label, count(*) n from units where "
                                     "interpretable group by label order by n desc limit 10"],
            "models": ["models"],
            "concepts MODEL --top 20": ["concepts", a, "--top", "20"],
            "units MODEL --concept C": ["units", a, "--concept", "object1"],
            "compare A B": ["compare", a, b],
            "neighbors MODEL": ["neighbors", a, "--top", "5"],
            "categorize (all models)": ["categorize"],
            "correlate (all models)": ["correlate"],
            "--help (interpreter + imports only)": ["--help"],
        }
        print(f"{'command':40s} {'cold wall median (s)':>22s}")
        for label, argv in commands.items():
            times = [lce(db, *argv) for _ in range(REPEATS)]
            print(f"{label:40s} {statistics.median(times):22.3f}")
        print("\nin-process time to open the warehouse and answer (canned SQL, fresh process):")
        probe = "places365-netpqc"   # the probe set of seed-paper-format imports
        canned = {"models": {},
                  "concepts": {"model": a, "probe": probe, "layer": None, "top": 20},
                  "units": {"model": a, "probe": probe, "concept": "object1", "layer": None,
                            "top": None},
                  "compare": {"a": a, "b": b, "probe": probe}}
        for name, params in canned.items():
            times = [in_process(db, name, params) for _ in range(REPEATS)]
            print(f"{name:40s} {statistics.median(times):22.3f}")


if __name__ == "__main__":
    main()
