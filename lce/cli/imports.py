"""``lce import profiles|benchmarks``: published results into the warehouse named by ``--db``.

Imports edit a copy of the warehouse and rename it into place (a new warehouse when the file is
missing). ``--db`` is followed through symlinks, so a link keeps pointing at the warehouse that
got the import; a directory, a read-only file or a file that is not a DuckDB database is refused
before anything is read. A later ``dvc repro`` rebuilds the warehouse from params, so imports
that must persist belong in the ``imports:`` section of params.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.errors import LCEError
from lce.io import check_output

import_app = typer.Typer(help="Import published unit profiles or benchmark tables.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")

DUCKDB_MAGIC = (8, b"DUCK")  # offset and bytes of every DuckDB database file's signature


def import_target(db: Path) -> Path:
    """The file an import edits: ``--db`` through its symlinks, checked to be writable and a
    DuckDB database (or missing: a new warehouse)."""
    target = check_output(db)
    if target.exists():
        offset, magic = DUCKDB_MAGIC
        with open(target, "rb") as fh:
            fh.seek(offset)
            if fh.read(len(magic)) != magic:
                raise LCEError(f"--db {db}: not a DuckDB database",
                               hint="import into an LCE warehouse or a new file")
    return target


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

    target = import_target(ctx.obj.db)
    profiles = read_profiles(path, fmt, model, layer)
    n = edit_atomically(target, lambda con: insert_profiles(con, profiles, replace))
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

    target = import_target(ctx.obj.db)
    rows = read_benchmarks(path, fmt)
    n = edit_atomically(target, lambda con: insert_benchmarks(con, rows))
    typer.echo(f"imported {n} benchmark values of {rows['model'].nunique()} models into "
               f"{ctx.obj.db}", err=True)
