"""DVC stage `warehouse`: build warehouse/lce.duckdb from the probe set, unit profiles, reference
imports, measured benchmark scores, training runs and the `analyze` stage's tables."""

import sys

from lce.params import load_params
from lce.progress import get_logger
from lce.stage import stage_main
from lce.warehouse.build import build_warehouse
from lce.warehouse.pipeline import ANALYSIS_DIR, pipeline_sources

OUTPUT = "warehouse/lce.duckdb"


@stage_main
def main() -> None:
    sources = pipeline_sources(load_params())
    path = build_warehouse(OUTPUT, sources=sources, analysis_dir=ANALYSIS_DIR)
    get_logger("lce.stages.warehouse").info(
        "built %s from %d dissected models, %d profile and %d benchmark imports", path,
        len(sources.results), len(sources.profile_imports), len(sources.benchmark_imports))


if __name__ == "__main__":
    sys.exit(main())
