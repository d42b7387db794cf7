"""The Typer application and its global options; every command module registers on ``app``.

Its own module (not ``lce/cli/__init__.py``), so command modules import it without importing the
package that imports them: the CLI's import graph has no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from lce.warehouse.connect import DEFAULT_DB

app = typer.Typer(
    name="lce",
    help="Compare vision models by the concepts their units learned (Learned Concepts Embedding).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@dataclass
class State:
    db: Path


@app.callback()
def global_options(
    ctx: typer.Context,
    db: Annotated[Path, typer.Option("--db", envvar="LCE_DB",
                                     help="The DuckDB warehouse to read or write.")] = DEFAULT_DB,
) -> None:
    ctx.obj = State(db=db)
