"""Assemble the report: run the analysis, draw the figures, write one self-contained HTML file."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lce.analysis.correlate import landscape
from lce.analysis.run import AnalysisOptions, LCEAnalysis, run_analysis
from lce.io import atomic_path
from lce.params import ReportParams
from lce.progress import get_logger
from lce.report import figures
from lce.report.exemplars import candidate_images, exemplar_strips

log = get_logger("lce.report")

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;margin-top:2.2rem}
.meta{color:#666;font-size:.9rem}table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0}svg{max-width:100%;height:auto}.strip img{display:block;margin:.2rem 0 .8rem}
.note{color:#555;font-size:.9rem;max-width:60rem}
"""


@dataclass
class ReportOptions:
    """What the report draws: :class:`lce.params.ReportParams` plus where the pipeline keeps the
    checkpoints, exemplar tables and probe images (for the exemplar strips)."""

    exemplar_units: int = ReportParams.exemplar_units
    exemplar_images: int = ReportParams.exemplar_images
    landscapes: int = ReportParams.landscapes
    checkpoints: dict[str, Path] = field(default_factory=dict)   # model -> checkpoint dir
    exemplar_tables: dict[str, Path] = field(default_factory=dict)  # model -> exemplars.parquet
    probe_dir: Path | None = None


def _table(columns, rows) -> str:
    def cell(v):
        if v is None:
            return ""
        return f"{v:.3g}" if isinstance(v, float) else html.escape(str(v))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _heatmap(rows, n_components: int, title: str) -> str:
    variables = sorted({r[2] for r in rows})
    if not variables:
        return "<p class='note'>No variables to correlate.</p>"
    col = {v: j for j, v in enumerate(variables)}
    matrix = np.full((n_components, len(variables)), np.nan)
    for component, _, variable, _, r, *_ in rows:
        if r is not None:
            matrix[component - 1, col[variable]] = r
    return figures.correlation_heatmap(variables, matrix, title)


def _naming(result: LCEAnalysis) -> str:
    """Per component: the profile summaries it correlates with most, and its top loadings."""
    rows = []
    p = result.projection
    for c in range(p.loadings.shape[0]):
        profile = sorted((r for r in result.profile_correlations
                          if r[0] == c + 1 and r[4] is not None), key=lambda r: -abs(r[4]))[:3]
        top = np.argsort(-np.abs(p.loadings[c]))[:5]
        labels = result.matrix.labels
        rows.append((f"PC{c + 1}", float(p.explained_variance_ratio[c]),
                     ", ".join(f"{r[2]} (r = {r[4]:+.2f})" for r in profile),
                     ", ".join(f"{labels[j]} ({p.loadings[c, j]:+.2f})" for j in top)))
    return _table(["component", "explained variance", "correlates with", "top loadings"], rows)


def _landscapes(result: LCEAnalysis, count: int) -> str:
    coords = result.projection.coordinates
    if coords.shape[1] < 2 or not result.benchmarks or count == 0:
        return "<p class='note'>No benchmark scores: import some to see the landscapes.</p>"
    best = sorted((r for r in result.benchmark_correlations if r[0] in (1, 2) and r[4] is not None
                   and r[3] >= 3), key=lambda r: (-abs(r[4]), r[2]))
    chosen = list(dict.fromkeys(r[2] for r in best))[:count]
    panels = []
    for variable in chosen:
        scores = result.benchmarks[variable]
        idx = [i for i, m in enumerate(result.models) if m in scores]
        points = coords[idx][:, :2]
        values = np.array([scores[result.models[i]] for i in idx])
        xs, ys, z = landscape(points, values)
        panels.append((variable, xs, ys, z, points, values))
    return figures.landscapes(panels) if panels else ""


def _uncertainty(result: LCEAnalysis, names, ratios) -> str:
    """How firm the categories and coordinates are, when the analysis has bootstrap results."""
    b = result.bootstrap
    if b is None:
        return ("<h2>How firm the embedding is</h2><p class='note'>No bootstrap "
                "(analysis.bootstrap = 0).</p>")
    coords = result.projection.coordinates
    rows = b.coordinate_rows(result.coordinate_rows())
    return "".join([
        f"<h2>How firm the embedding is</h2><p class='note'>{b.replicates} replicates, each "
        "resampling every model's units with replacement and repeating the analysis with the "
        f"same k = {result.k}. Stability: the mean fraction of replicates in which a model "
        "shares a category with the other members of its own; intervals: 2.5th and 97.5th "
        "percentiles of the coordinates after aligning each replicate's axes (Procrustes).</p>",
        _table(["model", "name", "category", "stability", "pc1", "pc1 low", "pc1 high", "pc2",
                "pc2 low", "pc2 high", "pc3", "pc3 low", "pc3 high"],
               [(row[0], name, *row[1:]) for row, name in zip(rows, names, strict=True)]),
        "<div class='grid'><figure>",
        figures.coordinate_intervals(names, coords, b.lower, b.upper, result.categories,
                                     ratios),
        "</figure><figure>",
        figures.coassignment_matrix(names, b.coassignment, result.categories),
        "</figure></div>", _correlation_intervals(result)])


def _correlation_intervals(result: LCEAnalysis, top: int = 12) -> str:
    """The strongest benchmark correlations with their p-values and bootstrap intervals."""
    rows = [r for r in result.bootstrap.correlation_rows(result.benchmark_correlations)
            if r[4] is not None and r[8] is not None]
    if not rows:
        return ""
    rows = sorted(rows, key=lambda r: (-abs(r[4]), r[2], r[0]))[:top]
    return ("<h3>Strongest benchmark correlations, with 95% bootstrap intervals</h3>"
            "<p class='note'>The intervals show how far the embedding's own noise (the units "
            "each model happened to have) moves a correlation; the p-values are about the "
            "models sampled.</p>"
            + _table(["variable", "component", "n", "pearson r", "p", "r low", "r high",
                      "spearman rho", "p", "rho low", "rho high"],
                     [(r[2], f"PC{r[0]}", r[3], r[4], r[5], r[8], r[9], r[6], r[7], r[10],
                       r[11]) for r in rows]))


def _exemplars(con, result: LCEAnalysis, settings: ReportOptions) -> str:
    if settings.probe_dir is None or settings.exemplar_units == 0:
        return "<p class='note'>Exemplars need the probe images and checkpoints.</p>"
    from lce.probe.broden import BrodenProbe

    probe = BrodenProbe(settings.probe_dir)
    parts = []
    for model in result.models:
        checkpoint = settings.checkpoints.get(model)
        if checkpoint is None or not Path(checkpoint).is_dir():
            continue
        units = con.execute("""
            SELECT layer, unit, label, iou, threshold FROM units
            WHERE model = ? AND probe = ? AND interpretable AND threshold IS NOT NULL
            ORDER BY iou DESC, layer, unit LIMIT ?""",
            [model, result.matrix.probe, settings.exemplar_units]).fetchall()
        log.info("exemplars of %s: %d units", model, len(units))
        table = settings.exemplar_tables.get(model)
        candidates = (candidate_images(pd.read_parquet(table), units, settings.exemplar_images)
                      if table is not None and Path(table).is_file() else None)
        for ex in exemplar_strips(checkpoint, probe, units, settings.exemplar_images,
                                  candidates):
            parts.append(f"<div class='strip'><b>{html.escape(model)}</b> {ex.layer} unit "
                         f"{ex.unit}: {html.escape(ex.label or '-')} (IoU {ex.iou:.3f})"
                         f"<img alt='exemplars of {html.escape(model)} unit {ex.unit}' "
                         f"src='data:image/png;base64,{ex.png_base64}'></div>")
    return "".join(parts) or "<p class='note'>No interpretable units with checkpoints.</p>"


def _placed(con, result: LCEAnalysis, display: dict) -> str:
    """Models dissected on the analysis' probe set but not compared in it, each projected onto
    the compared models when they include published ones (lce.analysis.place), marked with a
    star."""
    from lce.analysis.place import PlaceOptions, place
    from lce.errors import LCEError

    m, o = result.matrix, result.options
    published = con.execute("SELECT count(*) FROM models WHERE origin = 'imported' AND "
                            "list_contains(?, model)", [m.models]).fetchone()[0]
    if not published:  # a landscape of the pipeline's own models: nothing is placed
        return ""
    others = [r[0] for r in con.execute(
        "SELECT DISTINCT model FROM layers JOIN models USING (model) WHERE probe = ? AND "
        "origin = 'dissected' ORDER BY 1", [m.probe]).fetchall() if r[0] not in m.models]
    placements, refused = [], []
    for model in others:
        try:
            placements.append(place(con, model, PlaceOptions(
                probe=m.probe, models=tuple(m.models), iou_cutoff=o.matrix.iou_cutoff,
                layers=o.matrix.layers, k=result.k, clustering=o.clustering, seed=o.seed)))
        except LCEError as exc:
            refused.append(f"<p>{html.escape(model)} not placed: {html.escape(str(exc))}</p>")
    if not placements:
        return "".join(refused)
    first = placements[0]
    rows = first.coordinate_rows()[:-1] + [p.coordinate_rows()[-1] for p in placements]
    names = [display.get(r[0], r[0]) for r in rows]
    coords = np.array([[v if v is not None else 0.0 for v in r[2:5]] for r in rows])
    ratios = list(first.projection.explained_variance_ratio) + [0.0] * 3
    stars = frozenset(display.get(p.model, p.model) for p in placements)
    categories = np.array([r[1] for r in rows])
    table = _table(["placed model", "category", "pc1", "pc2", "pc3", "nearest published"],
                   [(p.model, p.category, *(float(c) for c in p.coordinates[:3]),
                     ", ".join(display.get(n, n) for n, _, _ in p.neighbours[:3]))
                    for p in placements])
    return ("<h2>Placed models</h2><p>Projected onto the compared models' components (their "
            "PCA, k and categories computed without them); stars.</p>" + table +
            f"<figure>{figures.lce_scatter(names, coords, categories, ratios, stars)}"
            "</figure>" + "".join(refused))


def render(con, result: LCEAnalysis, settings: ReportOptions, meta: dict) -> str:
    m, p = result.matrix, result.projection
    n_comp = p.loadings.shape[0]
    ratios = list(p.explained_variance_ratio) + [0.0] * 3
    display = dict(con.execute("SELECT model, coalesce(display_name, model) FROM models"
                               ).fetchall())
    names = [display.get(model, model) for model in m.models]
    histograms = "".join(
        f"<figure>{figures.concept_histogram(m.labels, m.categories, m.counts[i], name)}"
        "</figure>" for i, name in enumerate(names))
    sections = [
        f"<h1>Learned Concepts Embedding</h1><p class='meta'>{len(m.models)} models on probe "
        f"<b>{html.escape(m.probe)}</b> &middot; {len(m.concepts)} concepts &middot; "
        f"k = {result.k} ({result.k_rule}, {result.options.clustering})"
        f" &middot; normalisation {result.options.matrix.normalise} &middot; built "
        f"{html.escape(meta.get('build_time', '?'))} from "
        f"{html.escape(meta.get('source_revision', '?'))}</p>",
        "<h2>Models and categories</h2>",
        _table(["model", "name", "category", "pc1", "pc2", "pc3"],
               [(row[0], name, *row[1:]) for row, name in zip(result.coordinate_rows(), names,
                                                               strict=True)]),
        "<h2>The embedding</h2><div class='grid'>"
        f"<figure>{figures.lce_scatter(names, p.coordinates, result.categories, ratios)}"
        f"</figure><figure>{figures.elbow_curve(result.inertias, result.k, result.k_rule)}"
        "</figure></div>",
        _placed(con, result, display),
        _uncertainty(result, names, ratios),
        "<h2>What the components mean</h2>", _naming(result),
        f"<div class='grid'><figure>{figures.category_loadings(m.categories, p.loadings)}"
        f"</figure></div>",
        f"<figure>{figures.loadings_by_category(m.labels, m.categories, p.loadings)}</figure>",
        f"<figure>{_heatmap(result.profile_correlations, n_comp, 'components vs profile')}"
        "</figure>",
        "<h2>Components and benchmarks</h2>",
        f"<figure>{_heatmap(result.benchmark_correlations, n_comp, 'components vs benchmarks')}"
        "</figure>",
        "<h3>Performance landscapes (distance-weighted 5-NN over PC1, PC2)</h3>",
        _landscapes(result, settings.landscapes),
        "<h2>Concepts per model</h2><div class='grid'>" + histograms + "</div>",
        "<h2>Unit exemplars</h2>", _exemplars(con, result, settings),
    ]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<title>LCE report</title><style>" + STYLE + "</style></head><body>"
            + "\n".join(sections) + "</body></html>\n")


def build_report(con, options: AnalysisOptions, out_dir: str | Path,
                 settings: ReportOptions | None = None) -> Path:
    """Run the analysis on ``con`` and write ``out_dir/index.html`` atomically."""
    settings = settings or ReportOptions()
    result = run_analysis(con, options)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    page = render(con, result, settings, meta)
    target = Path(out_dir) / "index.html"
    with atomic_path(target) as tmp:
        tmp.write_text(page)
        tmp.chmod(0o644)   # a page to share or serve, not a private temporary file
    log.info("wrote %s (%d models, k = %d)", target, len(result.models), result.k)
    return target
