"""The one set of output options every command shares: ``--format`` and ``--output``.

Results are plain (columns, rows) pairs so that formatting never needs pandas (``lce query`` must
start fast and must not import the heavy scientific stack).
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lce.io import atomic_path


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE (atomically) instead of stdout.",
                 dir_okay=False),
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


def render(columns: list[str], rows: list[tuple], fmt: Format) -> str:
    """Render a result in ``fmt`` as text."""
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return buffer.getvalue()
    if fmt is Format.json:
        records = [dict(zip(columns, map(_plain, row), strict=True)) for row in rows]
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.jsonl:
        return "".join(json.dumps(dict(zip(columns, map(_plain, row), strict=True)),
                                  ensure_ascii=False) + "\n" for row in rows)
    if fmt is Format.markdown:
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"
        return (line(columns) + line(["---"] * len(columns))
                + "".join(line([_cell(v) for v in row]) for row in rows))
    return _text_table(columns, rows)


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


def emit(columns: list[str], rows: list[tuple], fmt: Format = Format.table,
         output: Path | None = None) -> None:
    """Print a result, or write it to ``output`` atomically."""
    text = render(columns, rows, fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    with atomic_path(output) as tmp:
        tmp.write_text(text)
