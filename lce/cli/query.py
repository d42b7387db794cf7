"""``lce query``: run SQL against the warehouse through a read-only connection."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import duckdb
import typer

from lce.cli import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.errors import LCEError
from lce.warehouse.connect import open_readonly

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_parameter(text: str) -> tuple[str, object]:
    """``name=value`` -> (name, value); the value becomes an int or float when it reads as one."""
    name, sep, raw = text.partition("=")
    if not sep or not _NAME.match(name):
        raise LCEError(f"bad parameter {text!r}", hint="use -p name=value and $name in the SQL")
    for kind in (int, float):
        try:
            return name, kind(raw)
        except ValueError:
            pass
    return name, raw


def run_query(con: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None):
    """(columns, rows) of ``sql``; DuckDB errors become one-line :class:`LCEError`s."""
    try:
        result = con.execute(sql, parameters or None)
        if result.description is None:
            return [], []
        columns = [d[0] for d in result.description]
        return columns, result.fetchall()
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())
        hint = None
        if "read-only" in message:
            hint = "the warehouse is read-only here; it is rebuilt by `dvc repro`"
        elif "Catalog Error" in message:
            hint = "list tables with: lce query \"show tables\""
        raise LCEError(message, hint=hint) from None


@app.command("query")
def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="SQL to run; `-` reads it from stdin.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Named parameter name=value, used as $name in the SQL.")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Run SQL on the warehouse (read-only) and print the result."""
    if sql == "-":
        sql = sys.stdin.read()
    if not sql.strip():
        raise LCEError("empty SQL")
    parameters = dict(parse_parameter(p) for p in param or [])
    con = open_readonly(ctx.obj.db)
    try:
        columns, rows = run_query(con, sql, parameters)
    finally:
        con.close()
    emit(columns, rows, fmt, output)
