"""DVC stage `summary`: metrics/summary.json, the interpretable-unit counts of every model.

Declared under ``metrics:`` in dvc.yaml (and cached, so the run-cache can restore it), it is what
``dvc exp show`` lists for each experiment of a sweep.
"""

import sys
from pathlib import Path

from lce.io import write_json
from lce.params import DISSECT_ROOT, dissect_on, load_params, model_params
from lce.progress import get_logger
from lce.stage import stage_main
from lce.summary import summarize

OUTPUT = Path("metrics/summary.json")


@stage_main
def main() -> None:
    params = load_params()
    models, reference = model_params(params), dissect_on(params)[0]  # the reference probe set
    summary = summarize({key: DISSECT_ROOT / key / reference for key in models})
    write_json(summary, OUTPUT)
    get_logger("lce.stages.summary").info("%s: %d interpretable units over %d models", OUTPUT,
                                          summary["interpretable"], len(models))


if __name__ == "__main__":
    sys.exit(main())
