"""DVC stage `analyze`: the LCE analysis (DESIGN.md section 6) of the configured models.

It loads the same sources as the warehouse into an in-memory database, runs the analysis and
writes the derived tables as Parquet under data/analysis/, which the `warehouse` stage loads; so
the warehouse holds base and derived tables from one consistent set of inputs.
"""

import json
import sys

import duckdb

from lce.analysis.run import options_from_params, run_analysis
from lce.io import atomic_path, write_parquet
from lce.params import load_params
from lce.progress import get_logger
from lce.stage import stage_main
from lce.warehouse.build import create_schema, populate
from lce.warehouse.pipeline import ANALYSIS_DIR, pipeline_sources

log = get_logger("lce.stages.analyze")


@stage_main
def main() -> None:
    import pandas as pd

    params = load_params()
    con = duckdb.connect()
    populate(con, pipeline_sources(params))
    result = run_analysis(con, options_from_params(params))
    con.close()
    log.info("%d models, %d concepts, k = %d; explained variance %s", len(result.models),
             len(result.matrix.concepts), result.k,
             ", ".join(f"{r:.3f}" for r in result.projection.explained_variance_ratio))
    schema = duckdb.connect()
    create_schema(schema)
    for table, records in result.tables().items():
        columns = [r[0] for r in schema.execute(f"DESCRIBE {table}").fetchall()]
        write_parquet(pd.DataFrame.from_records(records, columns=columns),
                      ANALYSIS_DIR / f"{table}.parquet")
    schema.close()
    with atomic_path(ANALYSIS_DIR / "settings.json") as tmp:
        tmp.write_text(json.dumps(result.settings(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
