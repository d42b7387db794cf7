"""Build ``lce.duckdb`` from the pipeline's Parquet artifacts.

The database is written through :func:`lce.warehouse.database.swap_in`: built beside the target
and renamed into place, so a reader opening the warehouse during a rebuild sees the old file (its
open handle keeps it alive) and never a half-built one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from lce.errors import LCEError
from lce.warehouse.database import create_schema, swap_in

BENCHMARK_FIELDS = ["model", "task", "dataset", "metric", "value", "higher_is_better", "source"]
ANALYSIS_TABLES = ("lce_vectors", "lce_components", "lce_loadings", "lce_coordinates",
                   "lce_elbow", "model_categories", "lce_correlations", "lce_stability",
                   "lce_coordinate_intervals", "lce_coassignment")


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
    """One model's unit profile, its per-category bests and, when the dissection wrote them, the
    optional ``null_iou`` column and the full concept-IoU table ``concepts.parquet``."""
    meta = result.meta
    if not result.units.is_file():
        raise LCEError(f"{result.units}: file not found")
    con.execute("INSERT INTO models (model, arch, method, source, origin, display_name) "
                "VALUES (?, ?, ?, ?, 'dissected', ?)",
                [meta["model"], meta.get("arch"), meta.get("method"), meta.get("source"),
                 meta["model"]])  # an import of the paper's profiles may name it later
    probe = meta["probe"]
    units = con.read_parquet(str(result.units))
    con.register("profile", units)
    null_iou = "null_iou" if "null_iou" in units.columns else "NULL"
    con.execute("""
        INSERT INTO layers
        SELECT model, layer, ?, count(*) FROM profile GROUP BY model, layer ORDER BY layer
    """, [probe])
    con.execute(f"""
        INSERT INTO units
        SELECT model, layer, ?, unit, threshold, nullif(label, ''), nullif(category, ''), iou,
               interpretable, {null_iou}
        FROM profile ORDER BY layer, unit
    """, [probe])  # noqa: S608 - a fixed column name or NULL
    categories = [c.removesuffix("_label") for c in units.columns if c.endswith("_label")
                  and c != "label"]
    for category in categories:
        con.execute(f"""
            INSERT INTO unit_categories
            SELECT model, layer, ?, unit, ?, nullif("{category}_label", ''), "{category}_iou"
            FROM profile ORDER BY layer, unit
        """, [probe, category])  # noqa: S608 - category names come from the Parquet schema
    con.unregister("profile")
    concepts = result.path / "concepts.parquet"
    if concepts.is_file():
        con.register("concept_iou", con.read_parquet(str(concepts)))
        con.execute("""
            INSERT INTO unit_concepts
            SELECT model, layer, ?, unit, concept, iou, "intersect", "union" FROM concept_iou
            ORDER BY layer, unit, concept
        """, [probe])
        con.unregister("concept_iou")


def load_benchmark_scores(con, path: Path) -> None:
    """Measured scores of one model (``data/bench/<model>/scores.parquet``)."""
    scores = con.read_parquet(str(path))
    missing = [c for c in BENCHMARK_FIELDS if c not in scores.columns]
    if missing:
        raise LCEError(f"{path}: missing column {missing[0]!r}")
    con.register("scores", scores)
    con.execute(f"INSERT INTO benchmarks SELECT {', '.join(BENCHMARK_FIELDS)} FROM scores "
                "ORDER BY model, task, dataset, metric")  # noqa: S608 - fixed column names
    con.unregister("scores")


def load_training_run(con, directory: Path) -> None:
    """A DeepCluster (or other) training run: ``run.json`` params and ``metrics.parquet``."""
    run_json = directory / "run.json"
    params = json.loads(run_json.read_text()) if run_json.is_file() else {}
    run = str(params.get("run", directory.name))
    con.execute("INSERT INTO training_runs VALUES (?, ?, ?)",
                [run, params.get("method"), json.dumps(params, sort_keys=True)])
    con.register("metrics", con.read_parquet(str(directory / "metrics.parquet")))
    con.execute("INSERT INTO training_metrics SELECT run, cycle, metric, value FROM metrics "
                "ORDER BY cycle, metric")
    con.unregister("metrics")


def save_analysis(result, directory: Path) -> None:
    """Write an :class:`~lce.analysis.run.LCEAnalysis` as the ``<table>.parquet`` files and
    ``settings.json`` that :func:`load_analysis` reads, with the columns of the schema."""
    import pandas as pd

    from lce.io import atomic_path, write_parquet

    schema = duckdb.connect()
    try:
        create_schema(schema)
        for table, records in result.tables().items():
            columns = [r[0] for r in schema.execute(f"DESCRIBE {table}").fetchall()]
            write_parquet(pd.DataFrame.from_records(records, columns=columns),
                          Path(directory) / f"{table}.parquet")
    finally:
        schema.close()
    with atomic_path(Path(directory) / "settings.json") as tmp:
        tmp.write_text(json.dumps(result.settings(), indent=2, sort_keys=True) + "\n")


def load_analysis(con, directory: Path) -> None:
    """The ``analyze`` stage's derived tables (``<table>.parquet``) and its settings."""
    for table in ANALYSIS_TABLES:
        path = directory / f"{table}.parquet"
        if path.is_file():
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet(?)",
                        [str(path)])  # noqa: S608 - table names from a fixed list
    settings = directory / "settings.json"
    if settings.is_file():
        con.executemany("INSERT INTO meta VALUES (?, ?)",
                        [(f"analysis.{k}", json.dumps(v)) for k, v
                         in sorted(json.loads(settings.read_text()).items())])


@dataclass(frozen=True)
class Sources:
    """Everything a warehouse is built from; absent optional directories are skipped."""

    probe: object = None                 # a BrodenProbe, or None for imports only
    probe_name: str = ""
    results: tuple[DissectionResult, ...] = ()
    profile_imports: tuple[dict, ...] = ()   # {path, format, model?, layer?}
    benchmark_imports: tuple[dict, ...] = ()  # {path, format}
    bench_dir: Path | None = None        # data/bench/<model>/scores.parquet
    train_dir: Path | None = None        # data/train/<run>/{metrics.parquet,run.json}


def populate(con, sources: Sources) -> None:
    """Create the schema and load every source into ``con`` (a file or an in-memory database)."""
    from lce.warehouse.importers import read_benchmarks, read_profiles
    from lce.warehouse.ingest import insert_benchmarks, insert_profiles

    create_schema(con)
    if sources.probe is not None:
        load_probe(con, sources.probe, sources.probe_name)
    for result in sources.results:
        load_dissection(con, result)
    for entry in sources.profile_imports:
        insert_profiles(con, read_profiles(entry["path"], entry.get("format", "mustapha"),
                                           entry.get("model"), entry.get("layer")))
    for entry in sources.benchmark_imports:
        insert_benchmarks(con, read_benchmarks(entry["path"], entry.get("format", "mustapha")))
    if sources.bench_dir is not None:
        for path in sorted(Path(sources.bench_dir).glob("*/scores.parquet")):
            load_benchmark_scores(con, path)
    if sources.train_dir is not None:
        for path in sorted(Path(sources.train_dir).glob("*/metrics.parquet")):
            load_training_run(con, path.parent)


def build_warehouse(db_path: str | Path, probe=None, probe_name: str = "",
                    results=(), sources: Sources | None = None,
                    analysis_dir: Path | None = None) -> Path:
    """Build the warehouse at ``db_path`` atomically from its sources (a probe set, dissection
    outputs, reference imports, measured scores, training runs) and the analysis tables."""
    sources = sources or Sources()
    if probe is not None or results:
        sources = replace(sources, probe=probe, probe_name=probe_name, results=tuple(results))
    def fill(con):
        populate(con, sources)
        if analysis_dir is not None:
            load_analysis(con, Path(analysis_dir))

    swap_in(db_path, fill, edit_existing=False, suffix="building")
    return db_path
