"""The LCE recipe on inputs with known answers: normalisation, PCA, elbow, categories,
correlations and distances."""

import duckdb
import numpy as np
import pytest

from lce.analysis.distance import complementary_pairs, distances, nearest, strength
from lce.analysis.embedding import cluster, elbow, pca
from lce.analysis.matrix import MatrixOptions, concept_matrix, resolve_models
from lce.analysis.run import AnalysisOptions, run_analysis
from lce.errors import LCEError
from lce.warehouse.importers import read_profiles
from lce.warehouse.ingest import edit_atomically, insert_profiles
from tests.support.warehouse import GROUPS

HAND_MADE = """,name,unit,iou,label,category
0,A(R),0,0.1,dog,object
1,A(R),1,0.1,dog,object
2,A(R),2,0.1,cat,object
3,A(R),3,0.05,red,color
4,A(R),4,0.03,leg,part
5,B(R),0,0.2,dog,object
6,B(R),1,0.1,wood,material
7,C(R),0,0.1,car,object
8,C(R),1,0.1,sky,object
9,C(R),2,0.5,-,object
"""


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand")
    (root / "p.csv").write_text(HAND_MADE)
    profiles = read_profiles(root / "p.csv", "mustapha")
    edit_atomically(root / "lce.duckdb", lambda con: insert_profiles(con, profiles))
    con = duckdb.connect(str(root / "lce.duckdb"), read_only=True)
    yield con
    con.close()


def entries(matrix, model):
    row = matrix.values[matrix.models.index(model)]
    return {c: v for c, v in zip(matrix.concepts, row, strict=True) if v}


@pytest.mark.parametrize(("normalise", "expected_a", "expected_b"), [
    # population: object concepts among interpretable units of A, B *and* C = dog, cat, car, sky
    ("population", {"dog": 0.5, "cat": 0.25, "red": 1.0}, {"dog": 0.25, "wood": 1.0}),
    ("compared", {"dog": 1.0, "cat": 0.5, "red": 1.0}, {"dog": 0.5, "wood": 1.0}),
    ("raw", {"dog": 2, "cat": 1, "red": 1}, {"dog": 1, "wood": 1}),
    ("proportion", {"dog": 0.5, "cat": 0.25, "red": 0.25}, {"dog": 0.5, "wood": 0.5}),
])
def test_normalisations(hand_made, normalise, expected_a, expected_b):
    models = resolve_models(hand_made, ["A", "B"])
    assert models == ["resnet50-a", "resnet50-b"]
    matrix = concept_matrix(hand_made, models, MatrixOptions(normalise=normalise))
    assert entries(matrix, "resnet50-a") == pytest.approx(expected_a)
    assert entries(matrix, "resnet50-b") == pytest.approx(expected_b)
    assert "leg" not in matrix.concepts  # iou 0.03 is below the cut-off


def test_model_selection_errors(hand_made):
    with pytest.raises(LCEError, match="unknown model 'Z'"):
        resolve_models(hand_made, ["A", "Z"])
    with pytest.raises(LCEError, match="bad model filter"):
        resolve_models(hand_made, where="no_such_column = 1")
    assert resolve_models(hand_made, where="display_name in ('B', 'C')") == [
        "resnet50-b", "resnet50-c"]


def test_elbow_rule():
    assert elbow([100, 40, 10, 8, 7, 6, 5.5]) == 3
    assert elbow([100, 20, 15, 12, 10]) == 2
    assert elbow([4, 3, 2, 1]) == 1               # a straight line has no elbow: one category
    assert elbow([1.5, 1.0, 0.5, 0.0]) == 1
    assert elbow([9, 8, 5, 0]) == 1               # nowhere below the chord either
    assert elbow([5, 1]) == 2


def test_pca_matches_sklearn_up_to_sign():
    from sklearn.decomposition import PCA

    values = np.random.default_rng(0).random((9, 6))
    ours = pca(values, 3)
    ref = PCA(3).fit(values)
    np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_)
    ref_coords = ref.transform(values)
    for c in range(3):
        sign = np.sign(ours.coordinates[0, c] * ref_coords[0, c])
        np.testing.assert_allclose(ours.coordinates[:, c], sign * ref_coords[:, c], atol=1e-10)


def test_planted_groups_are_found_by_the_elbow(planted):
    result = run_analysis(planted, AnalysisOptions(where="display_name <> 'Blank'"))
    assert result.k == 3
    by_model = dict(zip(result.models, result.categories, strict=True))
    for group in GROUPS:
        members = {c for m, c in by_model.items() if group in m}
        assert len(members) == 1, (group, by_model)
    assert len(set(by_model.values())) == 3
    # agglomerative clustering agrees on such separated groups (numbering is by PC1 either way)
    again = cluster(result.matrix.values, 3, "agglomerative", 0,
                    result.projection.coordinates[:, 0])
    np.testing.assert_array_equal(again, result.categories)
    tables = result.tables()
    assert [r["k"] for r in tables["lce_elbow"] if r["chosen"]] == [3]
    assert len(tables["lce_coordinates"]) == 9


def test_components_correlate_with_planted_benchmarks(planted):
    result = run_analysis(planted, AnalysisOptions(where="display_name <> 'Blank'"))
    cars = [r for r in result.benchmark_correlations if r[2] == "many-shot/Cars/top1-accuracy"]
    assert all(r[3] == 9 for r in cars)
    assert max(abs(r[4]) for r in cars) > 0.9      # one component is the vehicle axis
    best = max(cars, key=lambda r: abs(r[4]))
    assert best[5] < 0.01 and abs(best[6]) > 0.7   # significant, and Spearman agrees
    profile = {r[2] for r in result.profile_correlations}
    assert {"units_object", "concepts_color", "units_material"} <= profile


def test_neighbours_and_complementary_pairs(planted):
    from lce.analysis.correlate import benchmark_directions, benchmark_table

    models = resolve_models(planted, where="display_name <> 'Blank'")
    matrix = concept_matrix(planted, models)
    near = [m for m, _ in nearest(matrix.models, matrix.values, "resnet50-animalnet1", top=2)]
    assert sorted(near) == ["resnet50-animalnet2", "resnet50-animalnet3"]
    d = distances(matrix.values, "euclidean")
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    scores = strength(models, benchmark_table(planted, models), benchmark_directions(planted))
    pairs = complementary_pairs(matrix.models, matrix.values, scores)
    a, b = pairs[0][:2]

    def group(key):
        return next(g for g in GROUPS if g in key)

    assert group(a) != group(b)   # the farthest strong pair spans two groups


def test_numpy_statistics_match_scipy_and_sklearn():
    from scipy import stats
    from sklearn.cluster import KMeans

    from lce.analysis.stats import kmeans, pearson, spearman, student_t_two_sided_p

    rng = np.random.default_rng(1)
    for n in (3, 4, 12, 13, 40):
        x = rng.random(n)
        y = np.round(x + rng.random(n), 1)   # rounding makes ties for the rank test
        assert pearson(x, y) == pytest.approx(tuple(stats.pearsonr(x, y)), abs=1e-12)
        assert spearman(x, y) == pytest.approx(tuple(stats.spearmanr(x, y)), abs=1e-12)
    for df in (1, 2, 3, 10, 11):
        assert student_t_two_sided_p(2.1, df) == pytest.approx(2 * stats.t.sf(2.1, df))
    blobs = np.concatenate([rng.normal(c, 0.1, (10, 4)) for c in (0, 2, 4)])
    labels, inertia = kmeans(blobs, 3, seed=0)
    reference = KMeans(3, n_init=10, random_state=0).fit(blobs)
    assert inertia == pytest.approx(reference.inertia_)
    assert len(set(zip(labels, reference.labels_, strict=True))) == 3   # same partition


def test_landscape_is_distance_weighted_five_nearest_neighbours():
    from lce.analysis.correlate import landscape

    points = np.array([[0.0, 0.0], [1, 0], [0, 1], [1, 1], [2, 2], [4, 0]])
    values = np.array([10.0, 20, 30, 40, 50, 60])
    xs, ys, z = landscape(points, values, grid=5)
    assert xs[0] == pytest.approx(-0.6) and xs[-1] == pytest.approx(4.6)   # 15 % padding
    assert z.shape == (5, 5)
    # at (xs[1], ys[2]) = (0.7, 1.0) the nearest five leave out (4, 0); weights are 1 / distance
    gx, gy = xs[1], ys[2]
    assert (gx, gy) == pytest.approx((0.7, 1.0))
    d = np.hypot(points[:5, 0] - gx, points[:5, 1] - gy)
    assert z[2, 1] == pytest.approx((values[:5] / d).sum() / (1 / d).sum())
    # the centre of a square of four models is equally far from all: their mean
    _, _, square = landscape(np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]]),
                             np.array([1.0, 2, 3, 4]), grid=3)
    assert square[1, 1] == pytest.approx(2.5)


def test_a_name_two_models_answer_to_is_an_error_not_a_guess():
    con = duckdb.connect()
    con.execute("CREATE TABLE models (model VARCHAR, display_name VARCHAR)")
    con.execute("INSERT INTO models VALUES ('resnet50-swav', 'SwAV'), ('swav', 'SwAV-800')")
    assert resolve_models(con, ["SWAV-800", "resnet50-swav"]) == ["swav", "resnet50-swav"]
    with pytest.raises(LCEError, match="ambiguous model 'swav'"):
        resolve_models(con, ["swav"])   # a key of one, the display name of the other
    with pytest.raises(LCEError, match="unknown model 'moco'"):
        resolve_models(con, ["moco"])
