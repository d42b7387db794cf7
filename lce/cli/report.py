"""``lce report``: write the static HTML report of an LCE analysis of the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.analyze import (
    ClusteringOption,
    CutoffOption,
    ModelsOption,
    NormaliseOption,
    ProbeOption,
    SeedOption,
    WhereOption,
    analysis_options,
)
from lce.cli.app import app
from lce.cli.reading import reading
from lce.params import AnalysisParams


@app.command("report")
def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", file_okay=False,
                                         help="Directory for index.html.")] = Path("report"),
    models: ModelsOption = None,
    where: WhereOption = None,
    probe: ProbeOption = None,
    k: Annotated[int | None, typer.Option("--k", min=1, help="Fixed number of categories.")
                 ] = None,
    clustering: ClusteringOption = AnalysisParams.clustering,
    normalise: NormaliseOption = AnalysisParams.normalise,
    iou_cutoff: CutoffOption = AnalysisParams.iou_cutoff,
    seed: SeedOption = AnalysisParams.seed,
) -> None:
    """Write the static HTML report of an LCE analysis to OUTPUT/index.html.

    Exemplar strips are drawn when run in a pipeline checkout (params.yaml, data/probe and the
    checkpoints present)."""
    from lce.params import PARAMS_FILE, load_params
    from lce.report.page import ReportOptions, build_report
    from lce.report.pipeline import report_options_from_params

    settings = (report_options_from_params(load_params()) if PARAMS_FILE.is_file()
                and "report" in load_params() else ReportOptions())
    options = analysis_options(models, where, probe, normalise, iou_cutoff, seed, k=k,
                               clustering=clustering)
    with reading(ctx.obj.db) as con:
        path = build_report(con, options, output, settings)
    typer.echo(f"wrote {path}", err=True)
