"""The one set of output options every command shares: ``--format`` and ``--output``.

Results are plain (columns, rows) pairs so that formatting never needs pandas (``lce query`` must
start fast and must not import the heavy scientific stack). Rows may be any iterable: every
format but the aligned table is written row by row, so memory does not grow with the result;
the table (which needs every width before its first line) shows the first :data:`TABLE_ROWS`
rows and says how many more there are.

``--output FILE`` follows :func:`lce.io.output_file`: a regular file is replaced atomically (a
failed command leaves the old one), devices and FIFOs are written through, and the warehouse
named by ``--db``, read-only files and files in missing directories are refused before the
command runs.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import json
import math
import os
import sys
import unicodedata
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lce.errors import LCEError
from lce.io import check_output, output_file

TABLE_ROWS = 10_000
# One encoder each, reused: json.dumps with any option builds a new encoder per call, which
# costs more than encoding a row.
_JSON_LINE = json.JSONEncoder(ensure_ascii=False)
_JSON_INDENTED = json.JSONEncoder(ensure_ascii=False, indent=2)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"


def checked_output(ctx: typer.Context, value: Path | None) -> Path | None:
    """Refuse a bad ``--output`` before the command does any work; never the ``--db`` file."""
    if value is not None:
        state = ctx.find_root().obj
        check_output(value, protect=[state.db] if state is not None else [])
    return value


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE (atomically; devices and FIFOs are "
                 "written through) instead of stdout.", dir_okay=False,
                 callback=checked_output),
]


def _plain(value):
    """A JSON-safe value: NaN/inf become null, anything exotic (dates, decimals) a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def csv_value(value):
    """A CSV field as DuckDB writes it: NULL empty, booleans ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_header(columns: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue()


def write_rows(fh, columns: list[str], rows: Iterable[tuple], fmt: Format) -> None:
    """Write a result to the text file ``fh`` in ``fmt``, row by row (the table: see module)."""
    rows = iter(rows)
    if fmt is Format.csv:
        fh.write(csv_header(columns))
        csv.writer(fh, lineterminator="\n").writerows(
            [csv_value(v) for v in row] for row in rows)
    elif fmt is Format.json:
        # the layout of json.dumps(records, indent=2), one record at a time
        separator = "[\n  "
        for row in rows:
            record = _JSON_INDENTED.encode(dict(zip(columns, map(_plain, row), strict=True)))
            fh.write(separator + record.replace("\n", "\n  "))
            separator = ",\n  "
        fh.write("[]\n" if separator == "[\n  " else "\n]\n")
    elif fmt is Format.jsonl:
        for row in rows:
            fh.write(_JSON_LINE.encode(dict(zip(columns, map(_plain, row), strict=True))) + "\n")
    elif fmt is Format.markdown:
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"
        fh.write(line(columns) + line(["---"] * len(columns)))
        for row in rows:
            fh.write(line([_cell(v) for v in row]))
    else:
        shown = list(itertools.islice(rows, TABLE_ROWS))
        fh.write(_text_table(columns, shown))
        more = sum(1 for _ in rows)
        if more:
            fh.write(f"… {more:,} more rows not shown (a table shows the first "
                     f"{TABLE_ROWS:,}); use --format csv|jsonl|json|markdown or LIMIT\n")


def render(columns: list[str], rows: Iterable[tuple], fmt: Format) -> str:
    """Render a result in ``fmt`` as text."""
    buffer = io.StringIO()
    write_rows(buffer, columns, rows, fmt)
    return buffer.getvalue()


def _text_table(columns: list[str], rows: list[tuple]) -> str:
    """An aligned text table, one line per row (never wrapped, so it greps and pipes well).

    Written here rather than with rich: rich measures and wraps every cell, which costs more than
    the query itself for results of a few hundred rows. Values are printed as they are."""
    cells = [[_cell(v).replace("\n", " ") for v in row] for row in rows]
    widths = [max([_display_width(c)] + [_display_width(r[j]) for r in cells])
              for j, c in enumerate(columns)]

    def line(values, separator):
        padded = (v + " " * (w - _display_width(v)) for v, w in zip(values, widths, strict=True))
        return (" " + separator.join(padded)).rstrip() + "\n"

    rule = "━" + "━╇━".join("━" * w for w in widths) + "━\n"
    return line(columns, " ┃ ") + rule + "".join(line(r, " │ ") for r in cells)


def _display_width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@contextmanager
def destination(output: Path | None):
    """The text file a result goes to: ``output`` (see :func:`lce.io.output_file`) or stdout.

    A full disk or a closed stdout is one ``Error:`` line; a closed pipe (``| head``) ends the
    command quietly, as Unix tools do."""
    if output is not None:
        with output_file(output) as fh:
            yield fh
        return
    try:
        yield sys.stdout
        sys.stdout.flush()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        _silence_stdout()
        raise LCEError(f"cannot write to stdout ({exc.strerror or exc})") from None


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so that Python's final flush of what is still buffered does not
    fail a second time with a traceback."""
    with suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def emit(columns: list[str], rows: Iterable[tuple], fmt: Format = Format.table,
         output: Path | None = None) -> None:
    """Print a result, or write it to ``output`` atomically."""
    with destination(output) as fh:
        write_rows(fh, columns, rows, fmt)
