"""DVC stage `bench@<model>`: measure the downstream benchmarks of one model on frozen features.

Writes data/bench/<model>/scores.parquet (benchmark contract, source = 'measured') and meta.json.
"""

import sys
from dataclasses import asdict
from pathlib import Path

from lce.bench.run import benchmark_scores
from lce.contracts import SCORES
from lce.devices import pick_device
from lce.errors import LCEError
from lce.io import write_json
from lce.params import PROBE_ROOT, bench_params, dissect_on, load_params, model_params
from lce.probe.broden import BrodenProbe
from lce.progress import get_logger
from lce.stage import stage_main
from lce.zoo.checkpoint import load_checkpoint

log = get_logger("lce.stages.bench")


@stage_main
def main(key: str) -> None:
    params = load_params()
    models = model_params(params)
    if key not in models:
        raise LCEError(f"params.yaml: models.{key}: no such model")
    settings = bench_params(params)
    layer = models[key].benchmark_layer
    model, spec = load_checkpoint(models[key].weights)
    probe = BrodenProbe(PROBE_ROOT / dissect_on(params)[0])  # the build's reference probe set
    log.info("benchmarking %s (%s, %s) on frozen %s features", key, spec.arch, spec.source, layer)
    scores = benchmark_scores(key, model, spec, layer, probe, settings,
                              pick_device(settings.device, "bench.device"))
    out = Path("data/bench") / key
    SCORES.write(scores, out / SCORES.artifact)
    write_json({"model": key, "arch": spec.arch, "source": spec.source, "sha256": spec.sha256,
                "layer": layer, "bench": asdict(settings)}, out / "meta.json")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/bench.py MODEL_KEY")
    sys.exit(main(sys.argv[1]))
