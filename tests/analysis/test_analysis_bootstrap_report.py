"""The report with unit-bootstrap results: the co-assignment matrix and the coordinate
intervals are drawn when ``analysis.bootstrap`` > 0, and a note says so when it is 0."""


from lce.analysis.run import AnalysisOptions
from lce.report.page import ReportOptions, build_report


def page(con, out, replicates):
    options = AnalysisOptions(where="display_name <> 'Blank'", bootstrap=replicates)
    return build_report(con, options, out, ReportOptions(exemplar_units=0)).read_text()


def test_report_draws_coassignment_and_intervals(planted, tmp_path):
    with_bootstrap = page(planted, tmp_path / "a", 40)
    without = page(planted, tmp_path / "b", 0)
    assert "co-assignment over bootstrap replicates" in with_bootstrap
    assert "coordinates with 95% bootstrap intervals" in with_bootstrap
    assert "40 replicates" in with_bootstrap and "<th>stability</th>" in with_bootstrap
    assert with_bootstrap.count("<svg") == without.count("<svg") + 2
    assert "No bootstrap (analysis.bootstrap = 0)" in without
    assert "Strongest benchmark correlations, with 95% bootstrap intervals" in with_bootstrap
    assert "Strongest benchmark correlations" not in without
