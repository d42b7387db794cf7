"""DVC stage `train@<run>`: train one run of ``deepcluster.runs`` (DeepCluster, or its supervised
and random anchors) and write data/train/<run>/ (checkpoint, metrics.parquet, run.json,
timings.json, summary.json)."""

import sys

from lce.errors import LCEError
from lce.params import TRAIN_ROOT, deepcluster_runs, load_params
from lce.stage import stage_main


@stage_main
def main(key: str) -> None:
    from lce.train.run import execute_run

    runs = deepcluster_runs(load_params())
    if key not in runs:
        raise LCEError(f"params.yaml: deepcluster.runs.{key}: no such run")
    execute_run(runs[key], TRAIN_ROOT / key)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/train.py RUN_KEY")
    sys.exit(main(sys.argv[1]))
