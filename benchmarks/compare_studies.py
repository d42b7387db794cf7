"""Which conclusions of the DeepCluster study survive a second build: compare the judged effects
(``effects.csv``, written beside each study report by :mod:`lce.train.report`) of two builds,
e.g. the same commit's powered study on two machines, or before and after a change.

Prints every effect claimed in either build (its interval excludes zero) with both builds'
estimates and intervals, then counts: claimed in both with the same sign, in one only, and in both
with opposite signs. Run: ``python benchmarks/compare_studies.py REPORT_DIR_A REPORT_DIR_B``
(e.g. ``docs/deepcluster-study data/study-powered/report``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from lce.train.effects import NO_EFFECT
from lce.train.report import JUDGED


def _interval(row) -> str:
    if not math.isfinite(row.ci_low):
        return "(no interval)"
    return f"{row.estimate:+.4f} [{row.ci_low:+.4f}, {row.ci_high:+.4f}]"


def compare(a_dir: Path, b_dir: Path) -> dict[str, int]:
    key = ["setting", "effect"]
    a, b = (pd.read_csv(Path(d) / JUDGED).set_index(key) for d in (a_dir, b_dir))
    both = a.join(b, how="outer", suffixes=("_a", "_b"))
    counts = {"judged": len(both), "claimed in both, same sign": 0, "claimed in A only": 0,
              "claimed in B only": 0, "claimed in both, opposite signs": 0}
    for (setting, effect), row in both.iterrows():
        claimed = [isinstance(v, str) and v != NO_EFFECT for v in (row.verdict_a, row.verdict_b)]
        if not any(claimed):
            continue
        sides = [pd.Series({"estimate": row[f"estimate_{s}"], "ci_low": row[f"ci_low_{s}"],
                            "ci_high": row[f"ci_high_{s}"]}) for s in ("a", "b")]
        if all(claimed):
            same = math.copysign(1, sides[0].estimate) == math.copysign(1, sides[1].estimate)
            kind = "claimed in both, same sign" if same else "claimed in both, opposite signs"
        else:
            kind = "claimed in A only" if claimed[0] else "claimed in B only"
        counts[kind] += 1
        print(f"{kind:32} {setting}, {effect}: A {_interval(sides[0])}  B {_interval(sides[1])}")
    print("; ".join(f"{k}: {v}" for k, v in counts.items()))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="a study report directory (holds effects.csv)")
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    compare(args.a, args.b)


if __name__ == "__main__":
    main()
