"""Where the pipeline's warehouse sources live, read from params.yaml (shared by the ``analyze``
and ``warehouse`` stages so both see exactly the same data): every probe set of ``probes`` under
its own name, and every model's dissection on every probe set of ``dissect_on``."""

from __future__ import annotations

from pathlib import Path

from lce.params import DISSECT_ROOT, dissect_on, import_params, model_params, probe_sets
from lce.warehouse.build import DissectionResult, Sources

BENCH_DIR = Path("data/bench")      # data/bench/<model>/scores.parquet (bench stages)
TRAIN_DIR = Path("data/train")      # data/train/<run>/metrics.parquet + run.json (trainers)
ANALYSIS_DIR = Path("data/analysis")


def pipeline_sources(params: dict) -> Sources:
    from lce.probe.sets import open_probe_set

    imports, selected = import_params(params), dissect_on(params)
    sets = probe_sets(params)
    return Sources(
        probes=tuple((name, open_probe_set(s, cached=False)) for name, s in sets.items()),
        results=tuple(DissectionResult(DISSECT_ROOT / key / name)
                      for key in model_params(params) for name in selected),
        profile_imports=imports["profiles"], benchmark_imports=imports["benchmarks"],
        bench_dir=BENCH_DIR if BENCH_DIR.is_dir() else None,
        train_dir=TRAIN_DIR if TRAIN_DIR.is_dir() else None,
    )
