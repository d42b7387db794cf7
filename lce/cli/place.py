"""``lce place MODEL``: where a model falls in a published landscape (lce.analysis.place).

One long table, so every output format carries all of it: the model's coordinates (``position``,
one row per component), its category (``category``), its nearest reference models
(``neighbour``, distance in PC coordinates) and the concept counts that put it there
(``contribution``: units, loading and loading x centred value per component). ``--reference``
lists the reference models' own coordinates and categories too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lce.cli.analyze import CutoffOption, LayersOption, ModelsOption, SeedOption, model_names
from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.cli.reading import reading
from lce.params import AnalysisParams

COLUMNS = ["section", "name", "component", "value", "units", "loading", "category"]


@app.command("place")
def place_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model key or display name to place.")],
    probe: Annotated[str | None, typer.Option(
        "--probe", help="The reference population's probe set (default: the seed paper's "
        "places365-netpqc).")] = None,
    models: ModelsOption = None,
    population: Annotated[str, typer.Option(
        "--population", help="published (the probe's imported models) | all (every model of "
        "the probe but MODEL): whose concepts set the divisors")] = "published",
    k: Annotated[int | None, typer.Option("--k", min=1, help="Reference categories "
                                          "(default: the elbow, as categorize).")] = None,
    iou_cutoff: CutoffOption = AnalysisParams.iou_cutoff,
    seed: SeedOption = AnalysisParams.seed,
    layers: LayersOption = None,
    neighbours: Annotated[int, typer.Option("--neighbours", min=1,
                                            help="Nearest reference models shown.")] = 5,
    top: Annotated[int, typer.Option("--top", min=1,
                                     help="Contributions shown per component.")] = 5,
    reference: Annotated[bool, typer.Option(
        "--reference", help="Also list the reference models' coordinates.")] = False,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """MODEL projected onto the published models' components: coordinates, category, nearest
    published neighbours and the concept counts that put it there."""
    from lce.analysis.place import PlaceOptions, place

    options = PlaceOptions(models=tuple(model_names(models)), population=population, k=k,
                           iou_cutoff=iou_cutoff, seed=seed, layers=tuple(layers or ()),
                           neighbours=neighbours, top=top,
                           **({"probe": probe} if probe else {}))
    with reading(ctx.obj.db) as con:
        p = place(con, model, options)
    rows = [("position", p.model, c + 1, float(v), None, None, p.category)
            for c, v in enumerate(p.coordinates)]
    rows.append(("category", p.model, None, float(p.centroid_distances[p.category - 1]), None,
                 None, p.category))
    rows += [("neighbour", name, None, distance, None, None, category)
             for name, category, distance in p.neighbours]
    rows += [("contribution", concept, c, value, units, loading, None)
             for c, concept, units, loading, value in p.contributions]
    if reference:
        rows += [("reference", m, c + 1, v, None, None, cat)
                 for m, cat, *pcs, placed in p.coordinate_rows() if not placed
                 for c, v in enumerate(pcs) if v is not None]
    emit(COLUMNS, rows, fmt, output)
