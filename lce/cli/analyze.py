"""``lce categorize|correlate|neighbors``: LCE analyses computed on the fly from the warehouse.

They run the same library code as the ``analyze`` stage, on whatever model set the options pick,
so a user can try another selection or k without touching the pipeline.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.cli.reading import reading
from lce.errors import LCEError
from lce.params import AnalysisParams

# The analyses multiply matrices of a few hundred models at most; a multi-threaded BLAS spends far
# longer starting and synchronising threads than computing (20x slower measured on a busy 2-core
# machine). Set before numpy is first imported; a user's explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ModelsOption = Annotated[str | None, typer.Option(
    "--models", help="Comma-separated model keys or display names (default: all of the probe).")]
WhereOption = Annotated[str | None, typer.Option(
    "--where", help="SQL filter on the models table, e.g. \"arch = 'resnet50'\".")]
ProbeOption = Annotated[str | None, typer.Option("--probe", help="Probe set of the models.")]
NormaliseOption = Annotated[str, typer.Option(
    "--normalise", help="population (paper) | compared | raw | proportion")]
CutoffOption = Annotated[float, typer.Option("--iou-cutoff", help="Interpretable if IoU > this.")]
SeedOption = Annotated[int, typer.Option("--seed", help="k-means seed.")]
ClusteringOption = Annotated[str, typer.Option("--clustering", help="kmeans | agglomerative")]
BootstrapOption = Annotated[int, typer.Option(
    "--bootstrap", min=0, help="Resample each model's units N times (seeded by --seed): "
    "95% intervals and, for categorize, each model's category stability.")]
LayersOption = Annotated[list[str] | None, typer.Option(
    "--layer", help="Count only units of this layer (repeatable; default: every layer).")]


def model_names(models: str | None) -> list[str]:
    """The names of ``--models A,B``; a list naming no model (``,``) is an error, not "all"."""
    if models is None:
        return []
    names = [n.strip() for n in models.split(",") if n.strip()]
    if not names:
        raise LCEError(f"--models {models!r} names no model",
                       hint="give comma-separated model keys or names, or leave --models out "
                            "for all models")
    return names


def analysis_options(models, where, probe, normalise, cutoff, seed, layers=None, **extra):
    from lce.analysis.matrix import MatrixOptions
    from lce.analysis.run import AnalysisOptions

    names = tuple(model_names(models))
    return AnalysisOptions(models=names, where=where, probe=probe, seed=seed,
                           matrix=MatrixOptions(iou_cutoff=cutoff, normalise=normalise,
                                                layers=tuple(layers or ())), **extra)


def analyse(ctx: typer.Context, options):
    from lce.analysis.run import run_analysis

    with reading(ctx.obj.db) as con:
        return run_analysis(con, options)


@app.command("categorize")
def categorize(
    ctx: typer.Context,
    models: ModelsOption = None,
    where: WhereOption = None,
    probe: ProbeOption = None,
    k: Annotated[int | None, typer.Option("--k", min=1, help="Number of categories "
                                          "(default: the elbow of the k-means inertia).")] = None,
    clustering: ClusteringOption = AnalysisParams.clustering,
    normalise: NormaliseOption = AnalysisParams.normalise,
    iou_cutoff: CutoffOption = AnalysisParams.iou_cutoff,
    layer: LayersOption = None,
    seed: SeedOption = AnalysisParams.seed,
    bootstrap: BootstrapOption = 0,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Group models by their Learned Concepts Embedding: model, category, pc1, pc2, pc3.

    With --bootstrap N: each model's stability (mean fraction of replicates it shares a category
    with the other members of its own) and a 95% interval per coordinate."""
    from lce.analysis.bootstrap import COORDINATE_COLUMNS

    result = analyse(ctx, analysis_options(models, where, probe, normalise, iou_cutoff, seed,
                                           layer, k=k, clustering=clustering, bootstrap=bootstrap))
    ratios = ", ".join(f"PC{i + 1} {r:.1%}" for i, r
                       in enumerate(result.projection.explained_variance_ratio))
    typer.echo(f"{len(result.models)} models, {len(result.matrix.concepts)} concepts, "
               f"k = {result.k} ({result.k_rule}, {clustering}); "
               f"explained variance: {ratios}"
               + (f"; {bootstrap} unit-bootstrap replicates" if bootstrap else ""), err=True)
    if result.bootstrap:
        emit(COORDINATE_COLUMNS, result.bootstrap.coordinate_rows(result.coordinate_rows()),
             fmt, output)
        return
    emit(["model", "category", "pc1", "pc2", "pc3"], result.coordinate_rows(), fmt, output)


@app.command("correlate")
def correlate(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", help="Only this benchmark task, e.g. "
                                             "many-shot, few-shot, detection-frozen.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="benchmark | profile | all")] = "benchmark",
    models: ModelsOption = None,
    where: WhereOption = None,
    probe: ProbeOption = None,
    normalise: NormaliseOption = AnalysisParams.normalise,
    iou_cutoff: CutoffOption = AnalysisParams.iou_cutoff,
    layer: LayersOption = None,
    seed: SeedOption = AnalysisParams.seed,
    bootstrap: BootstrapOption = 0,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Correlate each principal component with benchmark scores (Pearson, Spearman, p-values).

    With --kind profile: with per-category unit and distinct-concept counts, which name the
    components. With --bootstrap N: 95% intervals of r and rho over unit-bootstrap replicates
    of the embedding (benchmark rows), next to the p-values."""
    from lce.analysis.bootstrap import INTERVAL_COLUMNS

    if kind not in ("benchmark", "profile", "all"):
        raise LCEError(f"unknown --kind {kind!r}", hint="one of: benchmark, profile, all")
    result = analyse(ctx, analysis_options(models, where, probe, normalise, iou_cutoff, seed,
                                           layer, task=task, bootstrap=bootstrap))
    rows = ((result.benchmark_correlations if kind != "profile" else [])
            + (result.profile_correlations if kind != "benchmark" else []))
    if kind == "benchmark" and not rows:
        raise LCEError("no benchmark scores for these models" + (f" and task {task!r}"
                                                                 if task else ""),
                       hint="import them with: lce import benchmarks PATH")
    columns = ["component", "kind", "variable", "n", "pearson_r", "pearson_p", "spearman_rho",
               "spearman_p"]
    if result.bootstrap:
        columns, rows = columns + INTERVAL_COLUMNS, result.bootstrap.correlation_rows(rows)
    emit(columns, rows, fmt, output)


@app.command("neighbors")
def neighbors(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model key or display name.")] = None,
    metric: Annotated[str, typer.Option("--metric", help="cosine | euclidean")] = "cosine",
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N nearest.")] = None,
    complementary: Annotated[bool, typer.Option(
        "--complementary", help="List pairs of strong models far apart in the LCE instead "
        "(ensemble candidates).")] = False,
    models: ModelsOption = None,
    where: WhereOption = None,
    probe: ProbeOption = None,
    normalise: NormaliseOption = AnalysisParams.normalise,
    iou_cutoff: CutoffOption = AnalysisParams.iou_cutoff,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Models nearest to MODEL in the LCE, or (--complementary) far-apart strong pairs."""
    from lce.analysis.correlate import benchmark_directions, benchmark_table
    from lce.analysis.distance import complementary_pairs, nearest, strength
    from lce.analysis.matrix import MatrixOptions, concept_matrix, resolve_models
    from lce.warehouse.probes import common_probe

    if model is None and not complementary:
        raise LCEError("name a MODEL, or pass --complementary")
    with reading(ctx.obj.db) as con:
        names = model_names(models)
        key = resolve_models(con, [model])[0] if model else None
        if key and not names and not where:
            probe = common_probe(con, [key], probe)   # MODEL's neighbours on its probe set
        selected = resolve_models(con, names, where, probe)
        if key and key not in selected:
            selected.append(key)
        matrix = concept_matrix(con, selected, MatrixOptions(iou_cutoff=iou_cutoff,
                                                             normalise=normalise), probe)
        if complementary:
            scores = benchmark_table(con, selected)
            pairs = complementary_pairs(matrix.models, matrix.values,
                                        strength(matrix.models, scores,
                                                 benchmark_directions(con)), metric)
            if key:
                pairs = [p for p in pairs if key in p[:2]]
            emit(["model_a", "model_b", f"{metric}_distance", "strength_a", "strength_b"],
                 pairs[:top], fmt, output)
            return
    emit(["model", f"{metric}_distance"], nearest(matrix.models, matrix.values, key, metric, top),
         fmt, output)
