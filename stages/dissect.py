"""DVC stage `dissect@<model>-<probe>`: label every unit of a model's layers on one probe set.

Writes data/dissect/<model>/<probe>/ as a whole (:mod:`lce.dissect.artifact`, which
``lce dissect`` writes too). The probe set is read from its mask cache, built once per probe set
by ``probe-cache@<probe>`` and shared by every model.
"""

import sys
from pathlib import Path

from lce.dissect.artifact import dissect_to
from lce.errors import LCEError
from lce.params import DISSECT_ROOT, dissect_params, load_params, model_params, probe_sets
from lce.probe.sets import open_probe_set
from lce.stage import stage_main


@stage_main
def main(key: str, probe_name: str) -> None:
    params = load_params()
    models, sets = model_params(params), probe_sets(params)
    if key not in models:
        raise LCEError(f"params.yaml: models.{key}: no such model")
    if probe_name not in sets:
        raise LCEError(f"params.yaml: probes.{probe_name}: no such probe set")
    model = models[key]
    dissect_to(Path(DISSECT_ROOT) / key / probe_name, key, model.weights, model.layers,
               open_probe_set(sets[probe_name]), probe_name, dissect_params(params))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python stages/dissect.py MODEL_KEY PROBE_SET")
    sys.exit(main(sys.argv[1], sys.argv[2]))
