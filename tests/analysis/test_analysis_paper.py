"""The seed paper's recipe on its own data (Mustapha et al. 2022): 20 ResNet-50 models dissected,
13 compared, three categories by the elbow."""

import duckdb
import pandas as pd
import pytest

from lce.analysis.matrix import concept_matrix, resolve_models
from lce.analysis.run import AnalysisOptions, run_analysis
from lce.warehouse.build import Sources, build_warehouse
from tests.support.warehouse import COMPARED, PAPER_GROUPS


@pytest.fixture(scope="module")
def paper(shared_data, tmp_path_factory):
    root = shared_data / "mustapha2022"
    db = build_warehouse(tmp_path_factory.mktemp("paper") / "lce.duckdb", sources=Sources(
        profile_imports=({"path": str(root / "models_dissect_profiles_raw.csv"),
                          "format": "mustapha"},),
        benchmark_imports=({"path": str(root / "models_performance_on_tasks.csv"),
                            "format": "mustapha"},)))
    con = duckdb.connect(str(db), read_only=True)
    yield con, root
    con.close()


def test_normalisation_counts_all_twenty_dissected_models(paper):
    con, root = paper
    raw = pd.read_csv(root / "models_dissect_profiles_raw.csv")
    kept = raw[(raw["label"] != "-") & (raw["iou"] > 0.04)]
    distinct = kept.groupby("category")["label"].nunique()
    matrix = concept_matrix(con, resolve_models(con, COMPARED))
    byol = kept[kept["name"] == "BYOL(R)"].groupby(["category", "label"]).size()
    row = matrix.models.index("resnet50-byol")
    columns = list(zip(matrix.categories, matrix.concepts, strict=True))
    for (category, label), count in byol.items():
        j = columns.index((category, label))   # `food` is both a material and an object
        assert matrix.values[row, j] == pytest.approx(count / distinct[category])


def test_three_categories_by_the_elbow(paper):
    con, _ = paper
    result = run_analysis(con, AnalysisOptions(models=tuple(COMPARED)))
    assert result.k == 3
    display = dict(con.execute("select model, display_name from models").fetchall())
    groups = {}
    for model, category in zip(result.models, result.categories, strict=True):
        groups.setdefault(category, set()).add(display[model])
    assert {frozenset(g) for g in groups.values()} == {frozenset(g) for g in PAPER_GROUPS}
    assert result.projection.explained_variance_ratio[0] > 0.5
    # the 12 compared models with published benchmarks (SeLaV1 has none)
    assert {r[3] for r in result.benchmark_correlations} == {12}
    material = [r for r in result.profile_correlations if r[2] == "units_material"]
    assert material[0][4] > 0.9     # PC1 is the material axis
