"""DVC stage `analyze`: the LCE analysis (docs/DESIGN.md §6) of the configured models.

It loads the same sources as the warehouse into an in-memory database, runs the analysis and
writes the derived tables as Parquet under data/analysis/, which the `warehouse` stage loads; so
the warehouse holds base and derived tables from one consistent set of inputs.
"""

import sys

import duckdb

from lce.analysis.run import options_from_params, run_analysis
from lce.dvcplots import write_lce_scatter
from lce.params import load_params
from lce.progress import get_logger
from lce.stage import stage_main
from lce.warehouse.build import populate, save_analysis
from lce.warehouse.pipeline import ANALYSIS_DIR, pipeline_sources

log = get_logger("lce.stages.analyze")


@stage_main
def main() -> None:
    params = load_params()
    con = duckdb.connect()
    populate(con, pipeline_sources(params))
    result = run_analysis(con, options_from_params(params))
    con.close()
    log.info("%d models, %d concepts, k = %d; explained variance %s", len(result.models),
             len(result.matrix.concepts), result.k,
             ", ".join(f"{r:.3f}" for r in result.projection.explained_variance_ratio))
    save_analysis(result, ANALYSIS_DIR)
    write_lce_scatter(result.coordinate_rows(), ANALYSIS_DIR / "lce-scatter.csv")  # dvc plots


if __name__ == "__main__":
    sys.exit(main())
