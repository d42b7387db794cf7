"""The `analyze` stage's tables through the warehouse build, on imported profiles that use one
name in two categories (the seed paper's `food`), and imports beside dissected models."""

import duckdb
import pytest

from lce.analysis.run import AnalysisOptions, run_analysis
from lce.warehouse.build import Sources, build_warehouse, populate, save_analysis
from lce.warehouse.importers import read_profiles
from lce.warehouse.ingest import edit_atomically, insert_profiles
from tests.support.warehouse import COMPARED, duplicate_names_sources


def analyze_then_build(sources: Sources, options: AnalysisOptions, root):
    """What `dvc repro analyze warehouse` does: analyse in memory, save, build with it."""
    con = duckdb.connect()
    populate(con, sources)
    result = run_analysis(con, options)
    con.close()
    save_analysis(result, root / "analysis")
    db = build_warehouse(root / "lce.duckdb", sources=sources, analysis_dir=root / "analysis")
    return result, duckdb.connect(str(db), read_only=True)


def test_a_name_in_two_categories_is_two_concepts(tmp_path):
    sources = duplicate_names_sources(tmp_path, dissected=False)
    result, con = analyze_then_build(sources, AnalysisOptions(), tmp_path)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    assert q("select category, units from lce_vectors where model = 'resnet50-a' "
             "and concept = 'food' order by category") == [("material", 2), ("object", 1)]
    assert q("select count(*) from lce_loadings where concept = 'food' group by component") == [
        (2,)] * len(result.projection.loadings)
    assert q("select category from concepts where concept = 'food' order by 1") == [
        ("material",), ("object",)]
    assert sorted(result.matrix.labels) == ["dog", "food (material)", "food (object)", "wood"]
    con.close()


def test_the_seed_papers_food_builds(shared_data, tmp_path):
    root = shared_data / "mustapha2022"
    sources = Sources(profile_imports=({"path": str(root / "models_dissect_profiles_raw.csv"),
                                        "format": "mustapha"},))
    _, con = analyze_then_build(sources, AnalysisOptions(models=tuple(COMPARED)), tmp_path)
    food = con.execute("select category, units from lce_vectors where model = 'resnet50-infomin' "
                       "and concept = 'food' order by category").fetchall()
    assert food == [("material", 24), ("object", 8)]
    con.close()


def test_the_bootstrap_lands_in_the_warehouse(tmp_path):
    sources = duplicate_names_sources(tmp_path)
    result, con = analyze_then_build(sources, AnalysisOptions(bootstrap=30, k=2), tmp_path)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    b, models = result.bootstrap, result.models
    assert q("select model, stability, replicates from lce_stability order by model") == sorted(
        (m, float(b.stability[i]), 30) for i, m in enumerate(models))
    intervals = q("select model, component, lower, upper from lce_coordinate_intervals")
    assert len(intervals) == len(models) * b.lower.shape[1]
    coords = dict(zip(models, result.projection.coordinates[:, 0], strict=True))
    assert all(lo <= hi for _, _, lo, hi in intervals)
    assert {m for m, c, lo, hi in intervals if c == 1 and lo - 1e-9 <= coords[m] <= hi + 1e-9}
    pairs = dict(((a, b_), f) for a, b_, f in q("select * from lce_coassignment"))
    assert len(pairs) == len(models) ** 2
    assert all(pairs[(m, m)] == 1.0 for m in models)
    assert all(pairs[(a, b_)] == pairs[(b_, a)] for a, b_ in pairs)
    con.close()
    _, plain = analyze_then_build(sources, AnalysisOptions(k=2), tmp_path / "plain")
    assert plain.execute("select count(*) from lce_stability").fetchone() == (0,)
    plain.close()


def test_importing_keeps_the_row_of_a_dissected_model(tmp_path):
    sources = duplicate_names_sources(tmp_path)
    db = build_warehouse(tmp_path / "lce.duckdb", sources=sources)
    again = read_profiles(tmp_path / "profiles.csv", "mustapha")
    edit_atomically(db, lambda con: insert_profiles(con, again))   # `lce import` on top
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select model, arch, method, origin, display_name from models "
                       "order by model").fetchall()
    assert rows == [("resnet50-a", "tiny", "random", "dissected", "A"),
                    ("resnet50-b", "tiny", "random", "dissected", "B"),
                    ("resnet50-c", "resnet50", None, "imported", "C"),
                    ("resnet50-d", "resnet50", None, "imported", "D")]
    assert con.execute("select probe, count(*) from units where model = 'resnet50-a' "
                       "group by probe order by probe").fetchall() == [
        ("places365-netpqc", 4), ("synthetic", 5)]
    con.close()


@pytest.mark.parametrize("probe", ["places365-netpqc", "synthetic"])
def test_named_models_on_two_probe_sets_follow_probe(tmp_path, probe):
    con = duckdb.connect(str(build_warehouse(tmp_path / "lce.duckdb",
                                             sources=duplicate_names_sources(tmp_path))))
    result = run_analysis(con, AnalysisOptions(models=("A", "B"), probe=probe))
    assert result.matrix.probe == probe
    assert result.matrix.labels == {"places365-netpqc": ["food (material)", "wood", "dog",
                                                       "food (object)"],
                                    "synthetic": ["red", "car", "dog", "sky"]}[probe]
    assert result.matrix.counts.sum() == {"places365-netpqc": 7, "synthetic": 6}[probe]
    con.close()


def test_models_on_two_probe_sets_need_probe(tmp_path):
    from lce.errors import LCEError

    con = duckdb.connect(str(build_warehouse(tmp_path / "lce.duckdb",
                                             sources=duplicate_names_sources(tmp_path))))
    with pytest.raises(LCEError, match=r"profiled on 2 probe sets \(places365-netpqc, synthetic\)"):
        run_analysis(con, AnalysisOptions(models=("A", "B")))
    with pytest.raises(LCEError, match="model 'resnet50-c' has no units on probe 'synthetic'"):
        run_analysis(con, AnalysisOptions(models=("A", "C"), probe="synthetic"))
    # the one probe set A and C share is used without asking
    assert run_analysis(con, AnalysisOptions(models=("A", "C"))).matrix.probe == "places365-netpqc"
    con.close()
