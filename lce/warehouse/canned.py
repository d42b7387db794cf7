"""The canned analyses of ``lce/warehouse/sql/analyses.sql``: named, parameterized, read-only SQL.

Keeping them in one SQL file lets users read (and reuse with ``lce query``) exactly what each
command runs; parameters are bound by DuckDB, never formatted into the text.
"""

from __future__ import annotations

import re
from functools import cache

from lce.errors import LCEError
from lce.warehouse.database import sql_file


@cache
def canned_queries() -> dict[str, str]:
    text = sql_file("analyses.sql")
    parts = re.split(r"^-- name: (\w+)\s*$", text, flags=re.MULTILINE)
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2], strict=True)}


def run_canned(con, name: str, **parameters) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of the canned analysis ``name``."""
    import duckdb

    queries = canned_queries()
    if name not in queries:
        raise LCEError(f"unknown canned analysis {name!r}", hint=f"known: {', '.join(queries)}")
    try:
        result = con.execute(queries[name], parameters)
        return [d[0] for d in result.description], result.fetchall()
    except duckdb.Error as exc:
        raise LCEError(f"{name}: {' '.join(str(exc).split())}") from None
