"""``lce preset seed-paper``: write a published experiment's entries into ``params.yaml``.

The library is :mod:`lce.presets`; ``dvc repro`` then runs the experiment, recomputing only what
the entries change (``lce preset seed-paper --images data/places365_val && dvc repro``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.errors import LCEError

preset_app = typer.Typer(help="Write a published experiment's settings into params.yaml.",
                         no_args_is_help=True)
app.add_typer(preset_app, name="preset")


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise LCEError(f"{option} {value!r}: expected MODEL=FILE",
                           hint=f"e.g. {option} BYOL=downloads/byol_converted.pth")
        pairs[name] = path
    return pairs


@preset_app.command("seed-paper")
def seed_paper(
    images: Annotated[str, typer.Option(
        "--images", help="The image folder to label (Places365 val, as Dissect packages it), "
                         "tracked with `dvc add`.")],
    profiles: Annotated[str, typer.Option(
        "--profiles", help="The published per-unit profiles (models_dissect_profiles_raw.csv), "
                           "imported as the reference population.")] = "",
    benchmarks: Annotated[str, typer.Option(
        "--benchmarks", help="The published benchmark table "
                             "(models_performance_on_tasks.csv).")] = "",
    models: Annotated[str | None, typer.Option(
        "--models", help="Comma-separated published names to dissect (default: the paper's "
                         "13).")] = None,
    source: Annotated[list[str] | None, typer.Option(
        "--source", help="MODEL=FILE: a local checkpoint instead of the published download; "
                         "needed for BYOL, whose file must be converted (repeatable).")] = None,
    segmenter_files: Annotated[str, typer.Option(
        "--segmenter-files", help="A directory with local copies of the segmenter's published "
                                  "files (<dir>/<component>/...); default: downloaded.")] = "",
    scale: Annotated[int, typer.Option(
        "--scale", min=1, help="Width reduction of the segmenter (offline tests only).")] = 1,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
    params: Annotated[Path, typer.Option(
        "--params", help="The params file to write into.")] = Path("params.yaml"),
) -> None:
    """The seed paper's experiment (Mustapha et al., arXiv 2207.11837): Places365 val labelled
    by Dissect's netpqc, the paper's ResNet-50s dissected at layer4 (method dissect, q = 0.01,
    56 px masks), its published profiles and benchmarks imported, the analysis on its 13 models.
    Run `dvc repro` afterwards."""
    from lce.params import load_params
    from lce.presets import SEED_PAPER_MODELS, SeedPaperOptions, apply_entries, seed_paper_entries

    names = tuple(m.strip() for m in models.split(",")) if models is not None else None
    if names is not None and not all(names):
        raise LCEError(f"--models {models!r}: an empty name", hint="e.g. --models MoCoV2,SwAV")
    options = SeedPaperOptions(images=images, profiles=profiles, benchmarks=benchmarks,
                               models=names or SEED_PAPER_MODELS,
                               sources=_pairs(source, "--source"),
                               segmenter_files=segmenter_files, scale=scale, device=device)
    current = load_params(params)
    written = apply_entries(params, seed_paper_entries(options, current.get("dissect_on") or ()))
    typer.echo(f"{params}: set {len(written)} entries ({', '.join(written)})")
    typer.echo("next: dvc repro   (then: lce categorize, lce place <model>-lce)")
