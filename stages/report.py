"""DVC stage `report`: the static HTML report (data/report/index.html) of the analysis in params."""

import sys

from lce.analysis.run import options_from_params
from lce.params import load_params
from lce.report.page import build_report
from lce.report.pipeline import report_options_from_params
from lce.stage import stage_main
from lce.warehouse.connect import open_readonly

WAREHOUSE = "warehouse/lce.duckdb"
OUTPUT = "data/report"


@stage_main
def main() -> None:
    params = load_params()
    con = open_readonly(WAREHOUSE)
    try:
        build_report(con, options_from_params(params), OUTPUT, report_options_from_params(params))
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
