"""Opening the warehouse for a command: read-only, and checked to hold the tables it reads.

A DuckDB file that is not an LCE warehouse (or one from before a table existed) then fails with
one line naming the missing table, instead of a catalog error in the middle of a command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lce.errors import LCEError
from lce.warehouse.connect import open_readonly

LCE_TABLES = ("meta", "models", "layers", "units")


@contextmanager
def reading(db: str | Path, tables: tuple[str, ...] = LCE_TABLES) -> Iterator:
    """A read-only connection to ``db`` that holds ``tables``; closed on exit."""
    con = open_readonly(db)
    try:
        present = {name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables()").fetchall()}
        missing = sorted(set(tables) - present)
        if missing:
            raise LCEError(f"not an LCE warehouse: table {missing[0]!r} is missing in {db}",
                           hint="rebuild it with `dvc repro warehouse`, or pass --db PATH")
        yield con
    finally:
        con.close()
