"""The warehouse file itself: its schema, its ``meta`` rows and the atomic swap every writer uses.

A leaf of ``lce.warehouse``: the build (``build``) and imports (``ingest``) both write through
:func:`swap_in`, so a reader never sees a half-written database, whoever writes it. The SQL ships
inside the package (``lce/warehouse/sql``), so a plain ``pip install`` has it.
"""

from __future__ import annotations

import importlib.resources
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from lce import __version__
from lce.contracts import warehouse_ddl
from lce.errors import LCEError

# 3: concepts keyed by (name, category); 4: model_categories.clustering, the bootstrap tables
# lce_stability, lce_coordinate_intervals, lce_coassignment; 5: the artifact tables derived from
# lce.contracts (unit_concepts' counts NOT NULL)
SCHEMA_VERSION = "5"


@cache
def sql_file(name: str) -> str:
    """The text of ``lce/warehouse/sql/<name>`` (package data)."""
    return importlib.resources.files("lce.warehouse").joinpath("sql", name).read_text()


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's tables: ``schema.sql`` and the artifact tables declared in
    :mod:`lce.contracts`."""
    con.execute(sql_file("schema.sql"))
    con.execute(warehouse_ddl())


def check_schema(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Refuse to edit a warehouse written by another schema version: its tables may lack a
    column this version loads, and a half-migrated file would answer queries wrongly."""
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.Error:
        rows = []
    row = rows[0] if rows else None
    if row is None or row[0] != SCHEMA_VERSION:
        found = f"schema {row[0]}" if row else "no schema version"
        raise LCEError(f"{db_path}: built by {found}; this LCE writes schema {SCHEMA_VERSION}",
                       hint="rebuild it (`dvc repro warehouse`) or import into a new --db")


def source_revision(cwd: Path | None = None) -> str:
    """The git commit the warehouse was built from, with ``+dirty`` for uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty.strip() else "")


def write_meta(con, where: Path) -> None:
    """Replace the build's own ``meta`` rows (the analysis stage's ``analysis.*`` rows stay)."""
    meta = {
        "schema_version": SCHEMA_VERSION,
        "lce_version": __version__,
        "build_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_revision": source_revision(where),
    }
    con.execute("DELETE FROM meta WHERE key NOT LIKE 'analysis.%'")
    con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))


def swap_in(db_path: str | Path, fill: Callable[[duckdb.DuckDBPyConnection], object],
            edit_existing: bool, suffix: str):
    """Write a database beside ``db_path`` with ``fill(con)``, then rename it over ``db_path``.

    ``edit_existing``: start from a copy of the current file (a new schema when there is none);
    otherwise from an empty database that ``fill`` creates the schema in. ``meta`` is written last.
    Readers keep the old file until the rename; a failure leaves it untouched and no temporary.
    Returns what ``fill`` returns.
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.{suffix}")
    tmp.unlink(missing_ok=True)
    try:
        copied = edit_existing and db_path.is_file()
        if copied:
            shutil.copyfile(db_path, tmp)
        con = duckdb.connect(str(tmp))
        try:
            if copied:
                check_schema(con, db_path)
            elif edit_existing:
                create_schema(con)
            result = fill(con)
            write_meta(con, db_path.parent)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return result
