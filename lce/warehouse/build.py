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

from lce.analysis.identity import dissection_identity, record_identity
from lce.contracts import CONCEPT_IOU, SCORES, TRAINING_METRICS, insert_select
from lce.errors import LCEError
from lce.warehouse.database import create_schema, swap_in

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
    from lce.warehouse.ingest import insert_units

    meta = result.meta
    if not result.units.is_file():
        raise LCEError(f"{result.units}: file not found")
    con.execute("INSERT OR IGNORE INTO models (model, arch, method, source, origin, "
                "display_name) "  # once per model, however many probe sets it was dissected on
                "VALUES (?, ?, ?, ?, 'dissected', ?)",
                [meta["model"], meta.get("arch"), meta.get("method"), meta.get("source"),
                 meta["model"]])  # an import of the paper's profiles may name it later
    probe = meta["probe"]
    insert_units(con, con.read_parquet(str(result.units)), probe, result.units)
    mask_size, path = con.execute("SELECT mask_size, path FROM probes WHERE probe = ?",
                                  [probe]).fetchone() or (None, None)
    record_identity(con, meta["model"], probe, dissection_identity(meta, mask_size, path))
    concepts = result.path / "concepts.parquet"
    if concepts.is_file():
        _insert_artifact(con, CONCEPT_IOU, con.read_parquet(str(concepts)), concepts,
                         {"probe": "$probe"}, "layer, unit, concept", {"probe": probe})


def _insert_artifact(con, contract, relation, path, values, order, params=None) -> None:
    """Load ``relation`` (an artifact read from ``path``) into its table, by column name."""
    contract.check_names(relation.columns, path, ordered=False)
    con.register("artifact", relation)
    con.execute(insert_select(contract, "artifact", relation.columns, values, order), params)
    con.unregister("artifact")


def load_benchmark_scores(con, path: Path) -> None:
    """Measured scores of one model (``data/bench/<model>/scores.parquet``)."""
    from lce.warehouse.ingest import insert_benchmarks

    scores = con.read_parquet(str(path))
    SCORES.check_names(scores.columns, path, ordered=False)
    insert_benchmarks(con, scores.df())


def load_training_run(con, directory: Path) -> None:
    """A DeepCluster (or other) training run: ``run.json`` params and ``metrics.parquet``."""
    run_json = directory / "run.json"
    params = json.loads(run_json.read_text()) if run_json.is_file() else {}
    run = str(params.get("run", directory.name))
    con.execute("INSERT INTO training_runs VALUES (?, ?, ?)",
                [run, params.get("method"), json.dumps(params, sort_keys=True)])
    path = directory / "metrics.parquet"
    _insert_artifact(con, TRAINING_METRICS, con.read_parquet(str(path)), path, {},
                     "cycle, metric")


def save_analysis(result, directory: Path) -> None:
    """Write an :class:`~lce.analysis.run.LCEAnalysis` as the ``<table>.parquet`` files and
    ``settings.json`` that :func:`load_analysis` reads, with the columns of the schema."""
    import pandas as pd

    from lce.io import write_json, write_parquet

    schema = duckdb.connect()
    try:
        create_schema(schema)
        for table, records in result.tables().items():
            columns = [r[0] for r in schema.execute(f"DESCRIBE {table}").fetchall()]
            write_parquet(pd.DataFrame.from_records(records, columns=columns),
                          Path(directory) / f"{table}.parquet")
    finally:
        schema.close()
    write_json(result.settings(), Path(directory) / "settings.json")


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
    probes: tuple = ()                   # further (name, BrodenProbe) pairs: the pipeline's sets
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
    for name, probe in sources.probes:
        load_probe(con, probe, name)
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
