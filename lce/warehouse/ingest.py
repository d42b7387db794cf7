"""Writing imported profiles and benchmark rows into a warehouse.

The same functions serve the ``warehouse`` stage (reference imports listed in params) and
``lce import`` (one file into an existing warehouse). Re-importing a model's layer or a
benchmark replaces its rows, so an import is idempotent; one that would shrink a layer is
refused. ``lce import`` edits a copy of the warehouse and renames it into place, the same atomic
rule the build follows.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from lce.analysis.identity import IMPORTED, record_identity
from lce.contracts import SCORES, UNITS, insert_select
from lce.errors import LCEError
from lce.warehouse.database import swap_in
from lce.warehouse.importers import ImportedProfiles


def _check_no_shrink(con, profiles: ImportedProfiles) -> None:
    """Refuse an import that would leave a model's layer with fewer units than it has now.

    A profile file cut short at a line boundary parses cleanly and numbers its units 0..n-1, so
    only the warehouse's own count can tell that it lost the rest of the model.
    """
    shrunk = con.execute("""
        SELECT l.model, l.layer, l.n_units, i.n_units FROM layers l
        JOIN imported_layers i USING (model, layer) WHERE l.probe = ? AND i.n_units < l.n_units
        ORDER BY l.model, l.layer""", [profiles.probe]).fetchall()
    if shrunk:
        model, layer, before, after = shrunk[0]
        raise LCEError(f"{profiles.source.removeprefix('import:')}: the import would shrink "
                       f"model {model}, layer {layer} from {before} to {after} units",
                       hint="a file cut short? pass --replace to replace the model anyway")


def insert_profiles(con: duckdb.DuckDBPyConnection, profiles: ImportedProfiles,
                    replace: bool = False) -> int:
    """Insert imported unit profiles; returns the number of models written.

    An import replaces the layers it holds (a model's layers may come from one file each) and
    never shrinks one, unless ``replace``: then it replaces each of its models whole.
    """
    units = profiles.units
    models = sorted(units["model"].unique())
    probe = profiles.probe
    con.register("imported_layers", units.groupby(["model", "layer"], as_index=False).size()
                 .rename(columns={"size": "n_units"}))
    if not replace:
        _check_no_shrink(con, profiles)
    for table in ("units", "unit_categories", "layers", "unit_concepts"):
        con.execute(f"""
            DELETE FROM {table} t USING imported_layers i
            WHERE t.probe = $probe AND t.model = i.model AND ($whole OR t.layer = i.layer)""",
                    {"probe": probe, "whole": replace})  # noqa: S608 - fixed table names
    con.unregister("imported_layers")
    # A model still profiled on another probe set (dissected by this pipeline, say) keeps its
    # row: its architecture, method and origin describe the checkpoint, not this import. The
    # import only fills what the row lacks, such as the paper's name for a dissected model.
    con.execute("DELETE FROM models WHERE list_contains(?, model) "
                "AND model NOT IN (SELECT model FROM layers)", [models])
    rows = [(m, profiles.arch, profiles.source, profiles.display_names.get(m, m)) for m in models]
    con.executemany(
        "INSERT OR IGNORE INTO models (model, arch, method, source, origin, display_name) "
        "VALUES (?, ?, NULL, ?, 'imported', ?)", rows)
    con.executemany(
        "UPDATE models SET arch = coalesce(arch, $arch), display_name = CASE "
        "WHEN display_name IS NULL OR display_name = model THEN $name ELSE display_name END "
        "WHERE model = $model",
        [{"model": m, "arch": arch, "name": name} for m, arch, _, name in rows])
    con.execute("INSERT OR IGNORE INTO probes (probe, path) VALUES (?, ?)",
                [probe, profiles.source])
    insert_units(con, units, probe, profiles.source)
    for model in models:  # what the publication made them with (lce.analysis.identity)
        record_identity(con, model, probe, IMPORTED.get(probe))
    # A published name may label two categories (the seed paper's `food`): two concepts. The
    # per-category bests (NetDissect's columns) name concepts too.
    con.execute("""
        INSERT OR IGNORE INTO concepts (probe, concept, category)
        SELECT DISTINCT $probe, label, category FROM (
            SELECT label, category FROM units WHERE probe = $probe AND list_contains($models, model)
            UNION ALL
            SELECT label, category FROM unit_categories
            WHERE probe = $probe AND list_contains($models, model))
        WHERE label IS NOT NULL AND category IS NOT NULL ORDER BY label, category
    """, {"probe": probe, "models": models})
    return len(models)


def insert_units(con: duckdb.DuckDBPyConnection, units, probe: str, where) -> None:
    """Load a unit-profile relation or frame (the :data:`~lce.contracts.UNITS` contract, read
    from ``where``) into ``layers``, ``units`` and ``unit_categories``, by column name: the one
    loader of the dissected and the imported profiles."""
    UNITS.check_names(units.columns, where, ordered=False)
    con.register("profile", units)
    con.execute("INSERT INTO layers SELECT model, layer, $probe, count(*) FROM profile "
                "GROUP BY model, layer ORDER BY model, layer", {"probe": probe})
    order = "model, layer, unit"
    con.execute(insert_select(UNITS, "profile", units.columns, {"probe": "$probe"}, order),
                {"probe": probe})
    for category in UNITS.categories(units.columns):
        con.execute(insert_select(UNITS, "profile", units.columns,
                                  {"probe": "$probe", "category": "$category"}, order,
                                  category=category), {"probe": probe, "category": category})
    con.unregister("profile")


def insert_benchmarks(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> int:
    """Insert benchmark rows (the :data:`~lce.contracts.SCORES` contract), replacing equal keys
    of the same source."""
    SCORES.check_names(rows.columns, "benchmarks", ordered=False)
    con.register("new_benchmarks", rows)
    con.execute("""
        DELETE FROM benchmarks b USING new_benchmarks n
        WHERE b.model = n.model AND b.task = n.task AND b.dataset = n.dataset
          AND b.metric = n.metric AND b.source = n.source""")
    con.execute(insert_select(SCORES, "new_benchmarks", rows.columns, {},
                              "model, task, dataset, metric"))
    con.unregister("new_benchmarks")
    return len(rows)


def edit_atomically(db_path: str | Path, edit: Callable[[duckdb.DuckDBPyConnection], object]):
    """Apply ``edit`` to a copy of the warehouse (a new one if missing), then rename it in place.

    Readers keep the old file until the rename; a failed edit leaves the warehouse untouched.
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)

    def checked_edit(con):
        try:
            return edit(con)
        except duckdb.Error as exc:
            raise LCEError(f"{db_path}: cannot import: {' '.join(str(exc).split())}",
                           hint="is it a warehouse of this LCE version? rebuild it with "
                                "`dvc repro` or import into a new --db") from None

    # Two imports at once would each copy the old file and the second rename would drop the
    # first import: an exclusive lock beside the warehouse makes them take turns.
    with open(db_path.with_name(f".{db_path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return swap_in(db_path, checked_edit, edit_existing=True, suffix="importing")
