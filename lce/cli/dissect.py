"""``lce dissect``: one model on one probe set outside ``dvc repro``, as NetDissect users type it.

It writes exactly the artifact of ``dissect@<model>-<probe>`` (:mod:`lce.dissect.artifact`, the
stage's own code), which the warehouse and ``lce import profiles --format lce`` load. Settings
left out take the defaults of params.yaml's ``dissect:`` section
(:class:`lce.params.DissectParams`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.probe import (
    CacheOption,
    CategoryOption,
    LimitOption,
    SampleOption,
    SeedOption,
    SplitOption,
)


def _checkpoint(model: str, scratch: Path) -> tuple[str, Path]:
    """(model key, checkpoint directory) of a checkpoint directory or a registered zoo key
    (materialized into ``scratch``: downloaded or offline weights, as ``fetch@`` would)."""
    from lce.errors import LCEError

    path = Path(model)
    if path.is_dir():
        if not (path / "spec.json").is_file():
            raise LCEError(f"{path}: no spec.json (not a checkpoint directory: model.pt + "
                           "spec.json)", hint="`dvc repro fetch@<key>` writes one")
        return path.resolve().name, path
    from lce.zoo.loading import materialize
    from lce.zoo.registry import get_spec

    spec = get_spec(model)  # an unknown key is an LCEError naming the known ones
    materialize(spec, scratch / model)
    return model, scratch / model


@app.command("dissect")
def dissect(
    model: Annotated[str, typer.Argument(
        help="A checkpoint directory (model.pt + spec.json, e.g. data/models/<key>) or a zoo "
             "key (`lce zoo list`).")],
    layer: Annotated[list[str], typer.Option(
        "--layer", "-l", help="A layer to dissect, a path of model.named_modules() "
                              "(repeatable).")],
    probe: Annotated[Path, typer.Option(
        "--probe", help="A Broden-format directory (index.csv, ...).")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="The output directory (replaced as a whole).")],
    cache: CacheOption = None,
    split: SplitOption = None, category: CategoryOption = None, limit: LimitOption = None,
    sample: SampleOption = None, seed: SeedOption = 0,
    name: Annotated[str | None, typer.Option(
        "--name", help="The model's name in the artifact (default: the checkpoint directory's "
                       "name or the zoo key).")] = None,
    probe_name: Annotated[str | None, typer.Option(
        "--probe-name", help="The probe set's name in the warehouse (default: the probe "
                             "directory's name).")] = None,
    method: Annotated[str | None, typer.Option(
        "--method", help="netdissect, or dissect (threshold on upsampled maps, argmax over "
                         "concepts).")] = None,
    quantile: Annotated[float | None, typer.Option(
        "--quantile", help="Top quantile of each unit's threshold (default: the method's "
                           "own).")] = None,
    denominator: Annotated[str | None, typer.Option(
        "--denominator", help="netdissect or lite (NetDissect-Lite's union).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda.")] = None,
    scratch: Annotated[str | None, typer.Option(
        "--scratch", help="Where the raw maps are spilled between the passes.")] = None,
) -> None:
    """Dissect a model's layers on a Broden-format probe set; write the artifact of dissect@."""
    import tempfile
    from dataclasses import replace

    from lce.dissect.artifact import dissect_to
    from lce.params import DissectParams
    from lce.probe import open_probe
    from lce.validation import check_dissect

    given = {"method": method, "quantile": quantile, "denominator": denominator,
             "batch_size": batch_size, "device": device, "scratch": scratch}
    settings = replace(DissectParams(), **{k: v for k, v in given.items() if v is not None})
    settings.validate("lce dissect")
    check_dissect(settings, "lce dissect")
    subset = open_probe(probe, cache, split=split, categories=category or None, limit=limit,
                        sample=sample, seed=seed)
    with tempfile.TemporaryDirectory(prefix="lce-dissect-") as tmp:
        key, weights = _checkpoint(model, Path(tmp))
        result = dissect_to(out, name or key, weights, layer, subset,
                            probe_name or probe.resolve().name, settings)
    split_times = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds
                            in result.seconds.items())
    typer.echo(f"wrote {out} ({sum(len(r.profile) for r in result.layers.values())} units); "
               f"time: {split_times}; total {sum(result.seconds.values()):.1f} s", err=True)
