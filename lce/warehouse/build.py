"""Build ``lce.duckdb`` from the pipeline's Parquet artifacts.

The database is written to a temporary file beside the target and renamed into place, so a reader
opening the warehouse during a rebuild sees the old file (its open handle keeps it alive) and never
a half-built one.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lce import __version__
from lce.errors import LCEError

SCHEMA_VERSION = "1"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "warehouse" / "schema.sql"


@dataclass(frozen=True)
class DissectionResult:
    """One ``dissect@<model>`` output directory: ``units.parquet`` and ``meta.json``."""

    path: Path

    @property
    def meta(self) -> dict:
        meta_path = self.path / "meta.json"
        if not meta_path.is_file():
            raise LCEError(f"{meta_path}: file not found (is {self.path} a dissection output?)")
        return json.loads(meta_path.read_text())

    @property
    def units(self) -> Path:
        return self.path / "units.parquet"


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


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_PATH.read_text())


def load_probe(con, probe, name: str) -> None:
    first = probe.records[0] if len(probe) else None
    con.execute("INSERT INTO probes VALUES (?, ?, ?, ?, ?)",
                [name, str(probe.root), len(probe), first.ih if first else None,
                 first.sh if first else None])
    rows = [(name, c.name, c.category, c.number)
            for c in sorted(probe.concepts.values(), key=lambda c: c.number)]
    if rows:
        con.executemany("INSERT INTO concepts VALUES (?, ?, ?, ?)", rows)


def load_dissection(con, result: DissectionResult) -> None:
    meta = result.meta
    if not result.units.is_file():
        raise LCEError(f"{result.units}: file not found")
    con.execute("INSERT INTO models VALUES (?, ?, ?, ?, 'dissected')",
                [meta["model"], meta.get("arch"), meta.get("method"), meta.get("source")])
    probe = meta["probe"]
    units = con.read_parquet(str(result.units))
    con.register("profile", units)
    con.execute("""
        INSERT INTO layers
        SELECT model, layer, ?, count(*) FROM profile GROUP BY model, layer ORDER BY layer
    """, [probe])
    con.execute("""
        INSERT INTO units
        SELECT model, layer, ?, unit, threshold, nullif(label, ''), nullif(category, ''), iou,
               interpretable
        FROM profile ORDER BY layer, unit
    """, [probe])
    categories = [c.removesuffix("_label") for c in units.columns if c.endswith("_label")
                  and c != "label"]
    for category in categories:
        con.execute(f"""
            INSERT INTO unit_categories
            SELECT model, layer, ?, unit, ?, nullif("{category}_label", ''), "{category}_iou"
            FROM profile ORDER BY layer, unit
        """, [probe, category])  # noqa: S608 - category names come from the Parquet schema
    con.unregister("profile")


def build_warehouse(db_path: str | Path, probe, probe_name: str,
                    results: list[DissectionResult]) -> Path:
    """Build the warehouse at ``db_path`` atomically from a probe set and dissection outputs."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.building")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            create_schema(con)
            load_probe(con, probe, probe_name)
            for result in results:
                load_dissection(con, result)
            meta = {
                "schema_version": SCHEMA_VERSION,
                "lce_version": __version__,
                "build_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "source_revision": source_revision(db_path.parent),
            }
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return db_path
