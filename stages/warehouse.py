"""DVC stage `warehouse`: build warehouse/lce.duckdb from the probe set and unit profiles."""

import sys
from pathlib import Path

from lce.params import load_params, model_params, probe_params
from lce.probe.broden import BrodenProbe
from lce.progress import get_logger
from lce.stage import stage_main
from lce.warehouse.build import DissectionResult, build_warehouse

OUTPUT = "warehouse/lce.duckdb"


@stage_main
def main() -> None:
    params = load_params()
    results = [DissectionResult(Path("data/dissect") / key) for key in model_params(params)]
    path = build_warehouse(OUTPUT, BrodenProbe("data/probe"), probe_params(params).name, results)
    get_logger("lce.stages.warehouse").info("built %s from %d models", path, len(results))


if __name__ == "__main__":
    sys.exit(main())
