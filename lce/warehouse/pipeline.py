"""Where the pipeline's warehouse sources live, read from params.yaml (shared by the ``analyze``
and ``warehouse`` stages so both see exactly the same data)."""

from __future__ import annotations

from pathlib import Path

from lce.params import import_params, model_params, probe_params
from lce.probe.broden import BrodenProbe
from lce.warehouse.build import DissectionResult, Sources

PROBE_DIR = Path("data/probe")
DISSECT_DIR = Path("data/dissect")
BENCH_DIR = Path("data/bench")      # data/bench/<model>/scores.parquet (bench stages)
TRAIN_DIR = Path("data/train")      # data/train/<run>/metrics.parquet + run.json (trainers)
ANALYSIS_DIR = Path("data/analysis")


def pipeline_sources(params: dict) -> Sources:
    imports = import_params(params)
    return Sources(
        probe=BrodenProbe(PROBE_DIR), probe_name=probe_params(params).name,
        results=tuple(DissectionResult(DISSECT_DIR / key) for key in model_params(params)),
        profile_imports=imports["profiles"], benchmark_imports=imports["benchmarks"],
        bench_dir=BENCH_DIR if BENCH_DIR.is_dir() else None,
        train_dir=TRAIN_DIR if TRAIN_DIR.is_dir() else None,
    )
