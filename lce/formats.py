"""Rendering a result -- plain (columns, rows) pairs -- as a table, CSV, JSON, JSON lines or
markdown. Library code (the study report's tables) and the CLI's ``--format`` share it, so it
imports neither typer nor pandas: ``lce query`` must start fast.

Rows may be any iterable: every format but the aligned table is written row by row, so memory
does not grow with the result; the table (which needs every width before its first line) shows
the first :data:`TABLE_ROWS` rows and says how many more there are.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

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
