"""``lce warehouse info``: where a warehouse came from and what it holds.

A teammate who pulled ``warehouse/lce.duckdb`` from a DVC remote (or restored it from the
run-cache) cannot tell from the file alone which commit built it, when, or which models it covers.
This command answers that from the warehouse's own ``meta`` table and catalog, through the same
read-only connection as ``lce query``, so it never changes the file it describes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.cli.reading import reading
from lce.errors import LCEError

warehouse_app = typer.Typer(help="Inspect the DuckDB warehouse.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")

COLUMNS = ["section", "name", "value"]
SECTIONS = ("meta", "models", "tables")


def meta_rows(con) -> list[tuple]:
    """The ``meta`` table (schema version, build time, source revision, ...), key by key."""
    return [("meta", key, value)
            for key, value in con.execute("SELECT key, value FROM meta ORDER BY key").fetchall()]


def model_rows(con) -> list[tuple]:
    """One row per model: architecture, method, origin, layers and unit counts."""
    rows = con.execute("""
        SELECT m.model, m.arch, m.method, m.origin,
               (SELECT string_agg(DISTINCT l.layer, ',' ORDER BY l.layer)
                FROM layers l WHERE l.model = m.model),
               (SELECT count(*) FROM units u WHERE u.model = m.model),
               (SELECT count(*) FROM units u WHERE u.model = m.model AND u.interpretable)
        FROM models m ORDER BY m.model
    """).fetchall()
    return [("models", model,
             f"arch={arch} method={method} origin={origin} layers={layers or '-'} "
             f"units={units} interpretable={interpretable}")
            for model, arch, method, origin, layers, units, interpretable in rows]


def table_rows(con) -> list[tuple]:
    """Row counts of every table; names come from DuckDB's catalog, never from the user."""
    names = [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name"
    ).fetchall()]
    return [("tables", name,
             con.execute(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"')
             .fetchone()[0])
            for name in names]


def warehouse_info(con, sections: tuple[str, ...] = SECTIONS) -> list[tuple]:
    """(section, name, value) rows describing the warehouse behind ``con`` (opened with
    :func:`~lce.cli.reading.reading`, which checks the tables read here)."""
    readers = {"meta": meta_rows, "models": model_rows, "tables": table_rows}
    return [row for section in sections for row in readers[section](con)]


@warehouse_app.command("info")
def info(
    ctx: typer.Context,
    section: Annotated[list[str] | None, typer.Option(
        "--section", "-s", help="Only these sections: meta, models, tables (repeatable).")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Where the warehouse came from (build time, source revision, schema version), its models
    and the row count of every table."""
    sections = tuple(section or SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise LCEError(f"unknown section {unknown[0]!r}", hint=f"choose from {', '.join(SECTIONS)}")
    with reading(ctx.obj.db) as con:
        rows = warehouse_info(con, sections)
    if section is None:
        rows.insert(0, ("file", "path", str(ctx.obj.db)))
    emit(COLUMNS, rows, fmt, output)
