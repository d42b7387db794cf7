"""Benchmark of the LCE unit bootstrap: ``lce categorize --bootstrap N`` on the seed paper's data.

Target (issue 18, on a 2-core machine): ``--bootstrap 1000`` on the 13 compared models of
Mustapha et al. (2022) in under 10 s, start-up included. The released profiles are imported into a
temporary warehouse as a user does (``lce import``); each replicate count runs the real command in
a subprocess and prints its wall time, then each model's category and stability (which models sit
firmly in their category, which could move). Run: ``python benchmarks/bench_bootstrap.py``
(``--replicates 200 1000 5000``; ``--data DIR`` for another copy of the released files).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPARED = ("BYOL,DeepClusterV2,InfoMin,InsDis,MoCoV1,MoCoV2,PCLV1,PCLV2,PIRL,SeLaV1,SeLaV2,"
            "Supervised,SwAV")
LCE = [sys.executable, "-m", "lce"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2]
                        / "shared" / "data" / "mustapha2022")
    parser.add_argument("--replicates", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "paper.duckdb")
        for kind, name in (("profiles", "models_dissect_profiles_raw.csv"),
                           ("benchmarks", "models_performance_on_tasks.csv")):
            subprocess.run([*LCE, "--db", db, "import", kind, str(args.data / name), "--format",
                            "mustapha"], check=True, capture_output=True)
        rows = []
        for n in args.replicates:
            start = time.perf_counter()
            done = subprocess.run([*LCE, "--db", db, "categorize", "--models", COMPARED,
                                   "--bootstrap", str(n), "--format", "json"], check=True,
                                  capture_output=True, text=True)
            print(f"--bootstrap {n:>5}: {time.perf_counter() - start:6.2f} s wall")
            rows = json.loads(done.stdout)
        print(f"\n{'model':<24} category  stability  pc1 [95% interval]")
        for r in sorted(rows, key=lambda r: (r["category"], -r["stability"])):
            print(f"{r['model']:<24} {r['category']:>8}  {r['stability']:9.3f}  "
                  f"{r['pc1']:+.2f} [{r['pc1_lo']:+.2f}, {r['pc1_hi']:+.2f}]")


if __name__ == "__main__":
    main()
