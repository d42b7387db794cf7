"""DVC stage `dissect@<model>`: label every unit of the model's layers on the probe set.

Writes data/dissect/<model>/units.parquet (one row per layer and unit) and meta.json.
"""

import json
import sys
from dataclasses import asdict
from pathlib import Path

from lce.dissect.run import DissectConfig, dissect
from lce.errors import LCEError
from lce.io import atomic_path, write_parquet
from lce.params import dissect_params, load_params, model_params, probe_params
from lce.probe.broden import BrodenProbe
from lce.progress import get_logger
from lce.stage import pick_device, stage_main
from lce.zoo.checkpoint import load_checkpoint

PROBE = "data/probe"
log = get_logger("lce.stages.dissect")


@stage_main
def main(key: str) -> None:
    import pandas as pd

    params = load_params()
    models = model_params(params)
    if key not in models:
        raise LCEError(f"params.yaml: models.{key}: no such model")
    model_cfg, settings = models[key], dissect_params(params)
    model, spec = load_checkpoint(model_cfg.weights)
    config = DissectConfig(quantile=settings.quantile, denominator=settings.denominator,
                           iou_cutoff=settings.iou_cutoff, batch_size=settings.batch_size,
                           device=pick_device(settings.device))
    probe = BrodenProbe(PROBE)
    log.info("dissecting %s (%s, %s) layers %s on %d probe images", key, spec.arch,
             spec.source, ", ".join(model_cfg.layers), len(probe))
    profiles = dissect(model, probe, model_cfg.layers, spec.mean, spec.std, config)
    frames = []
    for layer, frame in profiles.items():
        frame.insert(0, "layer", layer)
        frame.insert(0, "model", key)
        frames.append(frame)
        log.info("%s %s: %d of %d units interpretable", key, layer,
                 int(frame["interpretable"].sum()), len(frame))
    out = Path("data/dissect") / key
    write_parquet(pd.concat(frames, ignore_index=True), out / "units.parquet")
    meta = {"model": key, "arch": spec.arch, "method": spec.method, "source": spec.source,
            "sha256": spec.sha256, "probe": probe_params(params).name,
            "layers": list(model_cfg.layers), "dissect": asdict(settings)}
    with atomic_path(out / "meta.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/dissect.py MODEL_KEY")
    sys.exit(main(sys.argv[1]))
