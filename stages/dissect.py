"""DVC stage `dissect@<model>`: label every unit of the model's layers on the probe set.

Writes data/dissect/<model>/ as a whole: units.parquet (one row per layer and unit, with
the null-baseline IoU), exemplars.parquet (top images per unit), concepts.parquet (every
(unit, concept) with IoU > 0; when dissect.concept_table is on) and meta.json. The files are
written into a sibling directory that then replaces the old one, so a crash leaves the previous
set (or, between the two renames, no directory) -- never a mix of old and new files.
"""

import json
import sys
from dataclasses import asdict
from pathlib import Path

from lce.dissect.run import dissect_model
from lce.errors import LCEError
from lce.io import atomic_directory, write_parquet
from lce.params import dissect_params, load_params, model_params, probe_params
from lce.probe import open_probe
from lce.progress import get_logger
from lce.stage import stage_main
from lce.zoo.checkpoint import load_checkpoint

PROBE, PROBE_CACHE = "data/probe", "data/probe-cache"
log = get_logger("lce.stages.dissect")


def write_outputs(out: Path, tables: dict, meta: dict) -> None:
    """Write ``tables`` (name -> DataFrame, as ``<name>.parquet``) and meta.json as the new
    content of ``out``, replacing the old set whole."""
    with atomic_directory(out) as tmp:
        for name, frame in tables.items():
            write_parquet(frame, tmp / f"{name}.parquet")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


@stage_main
def main(key: str) -> None:
    import pandas as pd

    params = load_params()
    models = model_params(params)
    if key not in models:
        raise LCEError(f"params.yaml: models.{key}: no such model")
    model_cfg, settings = models[key], dissect_params(params)
    model, spec = load_checkpoint(model_cfg.weights)
    probe = open_probe(PROBE, PROBE_CACHE)  # masks decoded once per probe set, not per model
    log.info("dissecting %s (%s, %s) layers %s on %d probe images", key, spec.arch,
             spec.source, ", ".join(model_cfg.layers), len(probe))
    result = dissect_model(model, probe, model_cfg.layers, spec.mean, spec.std, settings)
    tables: dict[str, list] = {"units": [], "exemplars": [], "concepts": []}
    for layer, layer_result in result.layers.items():
        frame = layer_result.profile
        log.info("%s %s: %d of %d units interpretable (%d above their null baseline)", key,
                 layer, int(frame["interpretable"].sum()), len(frame),
                 int((frame["iou"] > frame["null_iou"]).sum()))
        for name, table in (("units", frame), ("exemplars", layer_result.exemplars),
                            ("concepts", layer_result.concept_iou)):
            table.insert(0, "layer", layer)
            table.insert(0, "model", key)
            tables[name].append(table)
    if not settings.concept_table:
        del tables["concepts"]
    meta = {"model": key, "arch": spec.arch, "method": spec.method, "source": spec.source,
            "sha256": spec.sha256, "probe": probe_params(params).name,
            "layers": list(model_cfg.layers),
            "dissect": {**asdict(settings), "quantile": result.settings.quantile}}
    write_outputs(Path("data/dissect") / key,
                  {name: pd.concat(frames, ignore_index=True) for name, frames in tables.items()},
                  meta)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/dissect.py MODEL_KEY")
    sys.exit(main(sys.argv[1]))
