"""``lce query``: run one SQL statement against the warehouse through a read-only connection.

Results stream, so memory stays flat however many rows a query returns. CSV is rendered by
DuckDB itself -- each value as DuckDB casts it to VARCHAR, NULL as an empty field, a field quoted
only when it holds a comma, a quote or a line break -- and copied out of Arrow buffers without a
Python object per row; the other formats fetch the rows in batches. The query runs in a worker
thread so that Ctrl-C reaches the main thread, interrupts DuckDB and ends with exit code 130.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from typing import Annotated

import duckdb
import typer

from lce.cli.app import app
from lce.cli.output import FormatOption, OutputOption, destination
from lce.errors import LCEError
from lce.formats import Format, csv_header, write_rows
from lce.warehouse.connect import open_readonly

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
BATCH_ROWS = 1 << 16
# Types whose VARCHAR form never holds a comma, quote or line break: their CSV fields need no
# quoting test (which costs more than the cast itself).
_UNQUOTED = re.compile(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|DECIMAL.*|BOOLEAN"
                       r"|DATE|TIME.*|INTERVAL|UUID")


class Interrupted(Exception):
    """Raised in the worker thread after Ctrl-C, so that no partial result is written."""


def parse_parameter(text: str) -> tuple[str, object]:
    """``name=value`` -> (name, value).

    A value written as a plain integer (``12``, ``-3``, ``0``) is an integer and one written as a
    plain decimal number (``0.5``, ``-2.5e-3``) a float; anything else stays a string, so
    ``007``, ``1_000``, ``+5``, ``nan`` and ``1e3x`` reach the SQL exactly as typed (cast in
    SQL for other types: ``$d::DATE``, ``$m::VARCHAR``)."""
    name, sep, raw = text.partition("=")
    if not sep or not _NAME.fullmatch(name):
        raise LCEError(f"bad parameter {text!r}", hint="use -p name=value and $name in the SQL")
    if _INTEGER.fullmatch(raw):
        return name, int(raw)
    if _DECIMAL.fullmatch(raw):
        return name, float(raw)
    return name, raw


def duckdb_error(exc: duckdb.Error) -> LCEError:
    """A DuckDB error as one line, with a hint for the usual mistakes."""
    message = " ".join(str(exc).split())
    hint = None
    if "read-only" in message:
        hint = "the warehouse is read-only here; it is rebuilt by `dvc repro`"
    elif "Catalog Error" in message:
        hint = "list tables with: lce query \"show tables\""
    return LCEError(message, hint=hint)


def run_query(con: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None):
    """(columns, rows) of ``sql``; DuckDB errors become one-line :class:`LCEError`s."""
    try:
        result = con.execute(sql, parameters or None)
        if result is None or result.description is None:
            return [], []
        return [d[0] for d in result.description], result.fetchall()
    except duckdb.Error as exc:
        raise duckdb_error(exc) from None


def read_sql(sql: str) -> str:
    """The SQL text (``-``: from stdin), checked to be text and one statement."""
    if sql == "-":
        if sys.stdin is None:
            raise LCEError("stdin is closed; give the SQL as an argument")
        data = sys.stdin.buffer.read()
        try:
            sql = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LCEError(f"stdin: not UTF-8 text (byte {data[exc.start]:#04x} at offset "
                           f"{exc.start}); lce query reads SQL") from None
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError:
        raise LCEError("the SQL argument is not valid UTF-8 text") from None
    if not sql.strip():
        raise LCEError("empty SQL")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise duckdb_error(exc) from None
    if not statements:
        raise LCEError("empty SQL: no statement, only separators or comments")
    if len(statements) > 1:
        raise LCEError(f"{len(statements)} statements; lce query runs one at a time",
                       hint="run each statement with its own lce query")
    return sql


def _rows(con, sql: str, parameters: dict, stop: threading.Event):
    """(columns, row iterator) of ``sql``, fetched in batches."""
    try:
        result = con.execute(sql, parameters or None)
    except duckdb.Error as exc:
        raise duckdb_error(exc) from None
    if result is None or result.description is None:
        return [], iter(())

    def batches():
        try:
            while batch := result.fetchmany(BATCH_ROWS):
                yield from batch
                if stop.is_set():
                    raise Interrupted
        except duckdb.Error as exc:
            raise duckdb_error(exc) from None

    return [d[0] for d in result.description], batches()


def _csv_field(name: str, kind, single: bool) -> str:
    ident = '"' + name.replace('"', '""') + '"'
    text = f"{ident}::VARCHAR"
    if _UNQUOTED.fullmatch(str(kind)):
        field = f"coalesce({text}, '')"
    else:
        special = " OR ".join(f"strpos({text}, {char}) > 0"  # 3x faster than a regexp
                              for char in ("','", "'\"'", "chr(10)", "chr(13)"))
        field = (f"CASE WHEN {ident} IS NULL THEN '' WHEN {special} "
                 f"THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END")
    # a lone empty field is written "" (as Python's csv does), or the row would read as blank
    return f"CASE WHEN ({field}) = '' THEN '\"\"' ELSE {field} END" if single else field


def _csv_text(batch) -> str:
    """The text of a batch of one string column, read straight from its Arrow buffers."""
    import pyarrow as pa

    column = batch.column(0)
    width = {pa.string(): "i", pa.large_string(): "q"}.get(column.type)
    if width is None or not len(column):
        return "".join(column.to_pylist())
    offsets = memoryview(column.buffers()[1]).cast(width)
    start, end = offsets[column.offset], offsets[column.offset + len(column)]
    return str(memoryview(column.buffers()[2])[start:end], "utf-8")


def _write_csv(fh, con, sql: str, parameters: dict, stop: threading.Event) -> None:
    try:
        relation = con.sql(sql, params=parameters or None)
        if relation is None:
            return
        named = relation.project("*")  # duplicate column names made unique (a, a_1)
        single = len(relation.columns) == 1
        line = " || ',' || ".join(_csv_field(name, kind, single)
                                  for name, kind in zip(named.columns, relation.types,
                                                        strict=True))
        fh.write(csv_header(relation.columns))
        for batch in named.project(f"{line} || chr(10) AS line").to_arrow_reader(BATCH_ROWS):
            fh.write(_csv_text(batch))
            if stop.is_set():
                raise Interrupted
    except duckdb.Error as exc:
        raise duckdb_error(exc) from None


def interruptible(con: duckdb.DuckDBPyConnection, work) -> None:
    """Run ``work(stop)`` in a worker thread; on Ctrl-C interrupt DuckDB, set ``stop`` (checked
    between batches) and re-raise KeyboardInterrupt here, which exits with code 130.

    DuckDB computes without returning to the interpreter, and Python delivers signals to the
    main thread only between bytecodes: run in the main thread, a long query ignores Ctrl-C.
    The main thread waits on an Event, not on ``Thread.join``, which an interrupt can leave
    believing the thread has ended (CPython gh-90882)."""
    stop, done, failure = threading.Event(), threading.Event(), []

    def target():
        try:
            work(stop)
        except BaseException as exc:  # re-raised in the main thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="lce-query", daemon=True).start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        stop.set()
        con.interrupt()
        done.wait()
        raise
    if failure:
        raise failure[0]


@app.command("query")
def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="One SQL statement; `-` reads it from stdin.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Named parameter name=value, used as $name in the SQL (plain "
        "integers and decimals become numbers, anything else a string).")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Run one SQL statement on the warehouse (read-only) and print the result."""
    sql = read_sql(sql)
    parameters = dict(parse_parameter(p) for p in param or [])
    con = open_readonly(ctx.obj.db)

    def work(stop):
        if fmt is Format.csv:
            with destination(output) as fh:
                _write_csv(fh, con, sql, parameters, stop)
            return
        columns, rows = _rows(con, sql, parameters, stop)
        with destination(output) as fh:
            write_rows(fh, columns, rows, fmt)

    try:
        interruptible(con, work)
    finally:
        with contextlib.suppress(duckdb.Error):  # after Ctrl-C DuckDB may still be unwinding
            con.close()
