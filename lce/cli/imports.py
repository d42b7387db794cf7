"""``lce import profiles|benchmarks``: published results into the warehouse named by ``--db``.

Imports edit a copy of the warehouse and rename it into place (a new warehouse when the file is
missing). A later ``dvc repro`` rebuilds the warehouse from params, so imports that must persist
belong in the ``imports:`` section of params.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli import app

import_app = typer.Typer(help="Import published unit profiles or benchmark tables.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")

PathArgument = Annotated[Path, typer.Argument(help="The file to import.", dir_okay=False)]


@import_app.command("profiles")
def import_profiles(
    ctx: typer.Context,
    path: PathArgument,
    fmt: Annotated[str, typer.Option("--format", help="mustapha | netdissect | dissect-json")
                   ] = "mustapha",
    model: Annotated[str | None, typer.Option(help="Model name (required unless the file "
                                                   "names its models).")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer name (required unless the file "
                                                   "names it).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace each model of the file "
                                          "whole, even by fewer units or layers.")] = False,
) -> None:
    """Import per-unit dissection profiles (seed paper CSV, NetDissect tally, Dissect JSON)."""
    from lce.warehouse.importers import read_profiles
    from lce.warehouse.ingest import edit_atomically, insert_profiles

    profiles = read_profiles(path, fmt, model, layer)
    n = edit_atomically(ctx.obj.db, lambda con: insert_profiles(con, profiles, replace))
    typer.echo(f"imported {len(profiles.units)} units of {n} model(s) into {ctx.obj.db} "
               f"(probe {profiles.probe})", err=True)


@import_app.command("benchmarks")
def import_benchmarks(
    ctx: typer.Context,
    path: PathArgument,
    fmt: Annotated[str, typer.Option("--format", help="mustapha | tidy")] = "mustapha",
) -> None:
    """Import a benchmark table (the seed paper's wide CSV, or a tidy long CSV)."""
    from lce.warehouse.importers import read_benchmarks
    from lce.warehouse.ingest import edit_atomically, insert_benchmarks

    rows = read_benchmarks(path, fmt)
    n = edit_atomically(ctx.obj.db, lambda con: insert_benchmarks(con, rows))
    typer.echo(f"imported {n} benchmark values of {rows['model'].nunique()} models into "
               f"{ctx.obj.db}", err=True)
