"""DVC stage `weights@<model>`: data/weights/<model>.json, the content digest of the checkpoint
directory `models.<model>.weights`. The `dissect` matrix (models x probe sets) depends on it in
place of the checkpoint directory, whose path a matrix item cannot look up (lce.dissect.artifact).
"""

import sys
from pathlib import Path

from lce.dissect.artifact import checkpoint_digest
from lce.errors import LCEError
from lce.io import write_json
from lce.params import load_params, model_params
from lce.stage import stage_main

OUTPUT = Path("data/weights")


@stage_main
def main(key: str) -> None:
    models = model_params(load_params())
    if key not in models:
        raise LCEError(f"params.yaml: models.{key}: no such model")
    write_json(checkpoint_digest(models[key].weights), OUTPUT / f"{key}.json")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/weights.py MODEL_KEY")
    sys.exit(main(sys.argv[1]))
