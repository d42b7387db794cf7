"""Benchmark of ``lce query`` output: rows per second and peak memory as the row count grows.

Target (issue 19 item 6, on a 2-core machine): at least 1 million rows/s to CSV, memory flat in
the row count for every streamed format (csv, jsonl, json, markdown; the table shows 10,000
rows). Each case runs the real command in a subprocess writing to /dev/null; peak RSS is the
child's; "marginal" is the rate between two row counts, which leaves out the start-up. Run:
``python benchmarks/bench_query_output.py`` (``--rows 1000000 10000000`` and ``--formats csv
jsonl`` to change the workload).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

QUERIES = {
    "1 int column": "select * from range({n})",
    "int, double, text": "select range as id, range / 7 as ratio, 'unit-' || range as name "
                         "from range({n})",
}


def run(db: Path, sql: str, fmt: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one ``lce query`` writing ``fmt`` to /dev/null."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "lce", "--db",
                             str(db), "query", sql, "-f", fmt],
                            capture_output=True, text=True, check=True)
    return time.perf_counter() - start, int(result.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl", "table"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "empty.duckdb"
        duckdb.connect(str(db)).close()  # range() needs no table: any warehouse file will do
        print(f"{'query':<18} {'format':<8} {'rows':>11} {'seconds':>8} {'rows/s':>12} "
              f"{'marginal':>12} {'peak RSS':>9}")
        for label, sql in QUERIES.items():
            for fmt in args.formats:
                previous = None
                for n in sorted(args.rows):
                    seconds, rss = run(db, sql.format(n=n), fmt)
                    marginal = (f"{(n - previous[0]) / (seconds - previous[1]):>12,.0f}"
                                if previous and seconds > previous[1] else f"{'':>12}")
                    print(f"{label:<18} {fmt:<8} {n:>11,} {seconds:>8.2f} {n / seconds:>12,.0f} "
                          f"{marginal} {rss:>7.0f} MiB", flush=True)
                    previous = (n, seconds)
    print(f"(peak RSS of the lce process; max RSS of this driver "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
