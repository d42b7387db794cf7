"""``lce deepcluster``: the training runs in the warehouse (``training_runs``,
``training_metrics``): list them, plot a run's per-cycle curves, rank settings by a cheap signal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import (
    Format,
    FormatOption,
    OutputOption,
    checked_output,
    destination,
    emit,
)
from lce.cli.reading import reading
from lce.errors import LCEError

deepcluster_app = typer.Typer(help="DeepCluster runs: list, per-cycle curves, selection.",
                              no_args_is_help=True)
app.add_typer(deepcluster_app, name="deepcluster")

RUNS_SQL = """
select r.run, r.method,
       json_extract_string(r.params, '$.dataset') || '/' || json_extract_string(r.params, '$.arch')
           as setting,
       try_cast(json_extract_string(r.params, '$.k') as integer) as k,
       try_cast(json_extract_string(r.params, '$.seed') as integer) as seed,
       try_cast(json_extract_string(r.params, '$.halt_clustering') as integer) as halt,
       count(distinct m.cycle) as cycles,
       max(m.value) filter (where m.metric = 'linear_top1') as linear_top1,
       arg_max(m.value, m.cycle) filter (where m.metric = 'nmi_labels') as nmi_labels,
       arg_max(m.value, m.cycle) filter (where m.metric = 'nmi_prev') as nmi_prev
from training_runs r left join training_metrics m using (run)
where $method is null or r.method = $method
group by all order by r.run
"""


def _query(ctx: typer.Context, sql: str, parameters: dict):
    from lce.cli.query import run_query

    with reading(ctx.obj.db, ("training_runs", "training_metrics")) as con:
        return run_query(con, sql, parameters)


@deepcluster_app.command("runs")
def runs(
    ctx: typer.Context,
    method: Annotated[str | None, typer.Option(
        help="Only runs of this method (deepcluster, supervised, random).")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """One line per training run: setting, K, seed, halt cycle and final figures."""
    if method is not None:
        _, found = _query(ctx, "select distinct method from training_runs order by 1", {})
        if method not in (methods := [m for (m,) in found]):
            raise LCEError(f"no training run of method {method!r} in the warehouse",
                           hint=f"methods there: {', '.join(methods) or 'none'}")
    columns, rows = _query(ctx, RUNS_SQL, {"method": method})
    emit(columns, rows, fmt, output)


@deepcluster_app.command("curve")
def curve(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="The run (a key of deepcluster.runs).")],
    metric: Annotated[list[str] | None, typer.Option(
        "--metric", "-m", help="Metric(s) to plot (default: nmi_labels, nmi_prev).")] = None,
    plot: Annotated[Path | None, typer.Option(
        help="Also draw the curves into this SVG file.", dir_okay=False,
        callback=checked_output)] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Print a run's per-cycle metrics (and, with --plot FILE, draw them as SVG)."""
    from lce.plots import line_chart

    metrics = metric or ["nmi_labels", "nmi_prev"]
    _, found = _query(ctx, "select count(*) from training_runs where run = $run", {"run": run})
    if not found[0][0]:
        raise LCEError(f"no training run {run!r} in the warehouse",
                       hint="list them with: lce deepcluster runs")
    _, rows = _query(ctx, "select metric, cycle, value from training_metrics "
                          "where run = $run order by metric, cycle", {"run": run})
    available = sorted({m for m, _, _ in rows})
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise LCEError(f"run {run!r} has no metric {unknown[0]!r}",
                       hint=f"its metrics: {', '.join(available)}")
    if plot is not None:
        series = {m: [(float(c), float(v)) for name, c, v in rows if name == m] for m in metrics}
        with destination(plot) as fh:
            fh.write(line_chart(series, f"{run}: per-cycle metrics", "cycle", ", ".join(metrics)))
        typer.echo(f"plot written to {plot}", err=True)
    cycles = sorted({c for name, c, _value in rows if name in metrics})
    values = {(name, c): v for name, c, v in rows}
    emit(["cycle", *metrics], [(c, *(values.get((m, c)) for m in metrics)) for c in cycles],
         fmt, output)


@deepcluster_app.command("select")
def select(
    ctx: typer.Context,
    cycle: Annotated[int, typer.Option(
        help="Cycle of the signal: 0 = k-means on the random network, 1.. = early pseudo-labels."
    )] = 0,
    signal: Annotated[str, typer.Option(
        help="Per-cycle metric used as the cheap signal.")] = "nmi_labelled",
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Rank DeepCluster settings by a cheap signal; report how well it predicts linear top-1.

    A halted run read before its halt equals its continuous twin and is left out, as in the
    study report."""
    import json

    from lce.train.selection import halted_twins, selection_regret, spearman_with_ci

    _, rows = _query(ctx, """
        select json_extract_string(r.params, '$.dataset') || '/'
                   || json_extract_string(r.params, '$.arch') as setting, r.run,
               max(m.value) filter (where m.metric = $signal and m.cycle = $cycle) as signal,
               max(m.value) filter (where m.metric = 'linear_top1') as linear_top1,
               any_value(r.params) as params
        from training_runs r join training_metrics m using (run)
        where r.method = 'deepcluster' group by all order by setting, signal desc, r.run
        """, {"signal": signal, "cycle": cycle})
    twins = halted_twins({r[1]: json.loads(r[4]) for r in rows})
    dropped = [r[1] for r in rows if cycle < twins.get(r[1], 0)]
    rows = [r[:4] for r in rows
            if r[2] is not None and r[3] is not None and r[1] not in dropped]
    if not rows:
        raise LCEError(f"no DeepCluster run has both {signal!r} at cycle {cycle} and linear_top1",
                       hint="train runs with `dvc repro` and rebuild the warehouse")
    table = []
    for setting in sorted({r[0] for r in rows}):
        group = [r for r in rows if r[0] == setting]
        stats = spearman_with_ci([r[2] for r in group], [r[3] for r in group])
        regret = selection_regret([r[2] for r in group], [r[3] for r in group])
        by_top1 = sorted(group, key=lambda r: -r[3])
        table += [(setting, rank, run, sig, top1, by_top1.index(r) + 1)
                  for rank, r in enumerate(group, 1) for _, run, sig, top1 in [r]]
        typer.echo(f"{setting}: Spearman rho = {stats['rho']:.3f} "
                   f"[{stats['ci_low']:.3f}, {stats['ci_high']:.3f}] (95% CI, n = {stats['n']}),"
                   f" regret {regret:.4f}", err=True)
    if dropped:
        typer.echo(f"left out (halted after cycle {cycle}, identical to a continuous twin "
                   f"until then): {', '.join(dropped)}", err=True)
    emit(["setting", "rank", "run", "signal", "linear_top1", "top1_rank"], table, fmt, output)
