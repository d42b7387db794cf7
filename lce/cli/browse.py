"""``lce models|concepts|units|compare``: the canned analyses of ``lce/warehouse/sql/analyses.sql``.

Plain SQL over a read-only connection: these answer in well under a second on a large
warehouse and import nothing heavy.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.cli.reading import reading
from lce.errors import LCEError
from lce.warehouse.canned import run_canned
from lce.warehouse.names import resolve_model
from lce.warehouse.probes import common_probe

LayerOption = Annotated[str | None, typer.Option("--layer", help="Only this layer.")]
ProbeOption = Annotated[str | None, typer.Option(
    "--probe", help="Probe set to read (default: the only one the model(s) were profiled on).")]



def check_filters(con, model: str, probe: str, layer: str | None = None,
                  concept: str | None = None) -> None:
    """A ``--layer`` the model was not profiled at, or a ``--concept`` the probe set does not
    have, is a mistake to report, not an empty answer."""
    if layer is not None:
        layers = [r[0] for r in con.execute("SELECT layer FROM layers WHERE model = $m AND "
                                            "probe = $p ORDER BY layer",
                                            {"m": model, "p": probe}).fetchall()]
        if layer not in layers:
            raise LCEError(f"model {model} has no layer {layer!r} on probe {probe}",
                           hint=f"its layers: {', '.join(layers)}")
    if concept is not None:
        known = con.execute("SELECT count(*) FROM (SELECT concept AS label, category FROM "
                            "concepts WHERE probe = $p UNION SELECT label, category FROM units "
                            "WHERE probe = $p) WHERE label = $c "
                            "OR label || ' (' || category || ')' = $c",
                            {"p": probe, "c": concept}).fetchone()[0]
        if not known:
            raise LCEError(f"probe {probe} has no concept {concept!r}",
                           hint=f"list them with: lce query \"select * from concepts where "
                                f"probe = '{probe}'\"")


def show(ctx: typer.Context, name: str, fmt: Format, output, probe: str | None = None,
         **parameters) -> None:
    """Run a canned analysis; the ones about models read one probe set (``probe``, else the
    models' only common one)."""
    with reading(ctx.obj.db) as con:
        keys = [key for key in ("model", "a", "b") if key in parameters]
        for key in keys:
            parameters[key] = resolve_model(con, parameters[key])
        if keys:
            parameters["probe"] = common_probe(con, [parameters[k] for k in keys], probe)
        if "model" in parameters:
            check_filters(con, parameters["model"], parameters["probe"],
                          parameters.get("layer"), parameters.get("concept"))
        columns, rows = run_canned(con, name, **parameters)
    emit(columns, rows, fmt, output)


@app.command("models")
def models(ctx: typer.Context, fmt: FormatOption = Format.table,
           output: OutputOption = None) -> None:
    """List the models in the warehouse with their profiled units and LCE category."""
    show(ctx, "models", fmt, output)


@app.command("concepts")
def concepts(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model key or display name.")],
    layer: LayerOption = None,
    probe: ProbeOption = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N commonest.")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """The concepts a model's interpretable units detect, with unit counts and IoU."""
    show(ctx, "concepts", fmt, output, probe, model=model, layer=layer, top=top)


@app.command("units")
def units(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model key or display name.")],
    concept: Annotated[str | None, typer.Option(
        "--concept", help="Only units labelled C; 'food (object)' picks one category of a name "
        "found in two.")] = None,
    layer: LayerOption = None,
    probe: ProbeOption = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N best units.")
                   ] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """A model's units with their best label and IoU, best first."""
    show(ctx, "units", fmt, output, probe, model=model, concept=concept, layer=layer, top=top)


@app.command("compare")
def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="First model.")],
    b: Annotated[str, typer.Argument(help="Second model.")],
    probe: ProbeOption = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Shared and distinct concepts of two models (on the one probe set both were profiled on)."""
    show(ctx, "compare", fmt, output, probe, a=a, b=b)
