"""The ``lce`` command line: a thin layer over the library.

Commands import what they need inside their bodies, so ``lce query`` never loads torch or the
scientific stack. Every failure the user can cause ends as one ``Error: ...`` line and exit code 1
(Ctrl-C: exit code 130, no traceback).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from lce.errors import LCEError
from lce.stage import report_error
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


# Each module registers its commands on `app`.
from lce.cli import (  # noqa: E402,F401
    analyze,
    browse,
    cluster,
    deepcluster,
    imports,
    probe,
    query,
    report,
    warehouse,
    zoo,
)


def main() -> None:
    try:
        app()
    except LCEError as exc:
        report_error(exc)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # Ctrl-C outside a command (typer maps the rest to 130 too)
        raise SystemExit(130) from None
