"""The artifact of one dissection -- a model's layers on one probe set -- as ``dissect@`` writes it
and ``lce dissect`` writes it: one implementation for both.

The directory holds ``units.parquet`` (one row per layer and unit, with the null-baseline IoU),
``exemplars.parquet`` (top images per unit), ``concepts.parquet`` (every (unit, concept) with
IoU > 0; when ``concept_table`` is on) and ``meta.json`` (model, checkpoint, probe set, layers,
settings as run). The files are written into a sibling directory that then replaces the old one,
so a crash leaves the previous set (or, between the two renames, no directory) -- never a mix of
old and new files. The warehouse (:class:`lce.warehouse.build.DissectionResult`) and ``lce import
profiles --format lce`` read it.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from lce.contracts import DISSECTION
from lce.errors import LCEError
from lce.io import atomic_directory, write_json
from lce.params import DissectParams
from lce.progress import get_logger

log = get_logger(__name__)


def write_outputs(out: Path, tables: dict, meta: dict) -> None:
    """Write ``tables`` (name -> DataFrame, as ``<name>.parquet``) and meta.json as the new
    content of ``out``, replacing the old set whole."""
    with atomic_directory(out) as tmp:
        for name, frame in tables.items():
            DISSECTION[name].write(frame, tmp / DISSECTION[name].artifact)
        write_json(meta, tmp / "meta.json")


def dissect_to(out: Path, key: str, weights: str | Path, layers, probe, probe_name: str,
               settings: DissectParams):
    """Dissect the checkpoint at ``weights`` (model ``key``) at ``layers`` on ``probe`` (named
    ``probe_name`` in the warehouse) and write the artifact to ``out``; returns the
    :class:`~lce.dissect.run.Dissection` (its ``seconds`` split the time by phase)."""
    import pandas as pd

    from lce.dissect.run import dissect_model
    from lce.zoo.checkpoint import load_checkpoint

    model, spec = load_checkpoint(weights)
    log.info("dissecting %s (%s, %s) layers %s on %d images of probe set %s", key, spec.arch,
             spec.source, ", ".join(layers), len(probe), probe_name)
    result = dissect_model(model, probe, list(layers), spec.mean, spec.std, settings)
    tables: dict[str, list] = {"units": [], "exemplars": [], "concepts": []}
    for layer, layer_result in result.layers.items():
        frame = layer_result.profile
        above = ("" if "null_iou" not in frame  # null_baseline: false computes none
                 else f" ({int((frame['iou'] > frame['null_iou']).sum())} above their null "
                      "baseline)")
        log.info("%s %s: %d of %d units interpretable%s", key, layer,
                 int(frame["interpretable"].sum()), len(frame), above)
        for name, table in (("units", frame), ("exemplars", layer_result.exemplars),
                            ("concepts", layer_result.concept_iou)):
            table.insert(0, "layer", layer)
            table.insert(0, "model", key)
            tables[name].append(table)
    if not settings.concept_table:
        del tables["concepts"]
    meta = {"model": key, "arch": spec.arch, "method": spec.method, "source": spec.source,
            "sha256": spec.sha256, "probe": probe_name, "layers": list(layers),
            "dissect": {**asdict(settings), "quantile": result.settings.quantile}}
    write_outputs(Path(out),
                  {name: pd.concat(frames, ignore_index=True) for name, frames in tables.items()},
                  meta)
    return result


def checkpoint_digest(weights: str | Path) -> dict:
    """``{"weights": path, "files": {name: sha256}}`` of a checkpoint directory.

    ``weights@<model>`` writes it for the dissections: DVC's ``matrix`` (models x probe sets)
    gives each dissection only its model's key, not the model's ``weights`` path, so the
    dissections depend on this small file, whose hash changes exactly when the checkpoint does.
    """
    import hashlib

    root = Path(weights)
    if not root.is_dir():
        raise LCEError(f"{root}: checkpoint directory not found")
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        files[path.relative_to(root).as_posix()] = digest.hexdigest()
    return {"weights": Path(weights).as_posix(), "files": files}
