"""The unit bootstrap of the LCE (lce.analysis.bootstrap): planted populations whose categories
are known, Procrustes alignment, the batched k-means, and `lce categorize|correlate --bootstrap`."""

import json

import numpy as np
import pytest

from lce.analysis.bootstrap import aligned_coordinates, bootstrap, stability
from lce.analysis.embedding import cluster, pca
from lce.analysis.matrix import ConceptMatrix, normalised
from lce.analysis.stats import kmeans, kmeans_stack
from tests.support.cli import run_lce
from tests.support.warehouse import write_mustapha_profiles, write_tidy_benchmarks

UNITS = 1000   # units per planted model; 600 of them interpretable


def planted(middle: bool = True, scale: int = 1):
    """Group A favours concepts 0-1, group B concepts 2-3 (four models each, a little jitter);
    the middle model (last row) splits its units evenly between the two profiles."""
    rng = np.random.default_rng(1)
    a, b = np.array([240, 200, 80, 80]), np.array([80, 80, 240, 200])
    rows = [profile + rng.integers(-8, 9, size=4) for profile in (a,) * 4 + (b,) * 4]
    if middle:
        rows.append((a + b) // 2)
    counts = np.array(rows, dtype=float) * scale
    divisor = np.array([2.0, 2.0, 2.0, 2.0])
    models = [f"m{i}" for i in range(len(counts))]
    matrix = ConceptMatrix(models=models, concepts=["c0", "c1", "c2", "c3"],
                           categories=["object"] * 4, counts=counts,
                           values=normalised(counts, divisor, "population"), probe="p",
                           divisor=divisor)
    return matrix, np.full(len(models), UNITS * scale)


def run(matrix, totals, replicates=400, k=2):
    projection = pca(matrix.values, 2)
    categories = cluster(matrix.values, k, "kmeans", 0, projection.coordinates[:, 0])
    result = bootstrap(matrix, totals, projection.loadings, categories, k, "population",
                       "kmeans", 0, replicates)
    return projection, categories, result


def test_planted_groups_are_stable_and_the_middle_model_half():
    matrix, totals = planted()
    _, categories, result = run(matrix, totals)
    middle = len(matrix.models) - 1
    own = categories == categories[middle]
    other = ~own
    assert other.sum() == 4 and own.sum() == 5          # the middle model joined one group
    assert result.stability[other].min() > 0.97
    assert 0.3 < result.stability[middle] < 0.7
    group = np.flatnonzero(own)[:-1]
    assert result.coassignment[np.ix_(group, group)].min() > 0.97
    assert result.coassignment[np.ix_(group, np.flatnonzero(other))].max() < 0.03
    assert np.allclose(np.diag(result.coassignment), 1.0)


def test_intervals_hold_the_estimate_and_shrink_with_more_units():
    matrix, totals = planted(middle=False)
    projection, _, result = run(matrix, totals, replicates=300)
    coords = projection.coordinates
    assert np.all(result.lower <= coords + 1e-9) and np.all(coords <= result.upper + 1e-9)
    big_matrix, big_totals = planted(middle=False, scale=100)
    _, _, big = run(big_matrix, big_totals, replicates=300)
    width, big_width = result.upper - result.lower, big.upper - big.lower
    # widths scale as 1/sqrt(units); coordinates scale with the counts: relative width / 10
    ratio = (big_width / 100)[:, 0].mean() / width[:, 0].mean()
    assert 0.05 < ratio < 0.2


def test_procrustes_undoes_a_flipped_or_swapped_reference():
    matrix, _ = planted()
    projection = pca(matrix.values, 2)
    aligned, full = aligned_coordinates(matrix.values[None], projection.loadings)
    assert np.allclose(aligned[0], projection.coordinates)
    flipped = aligned_coordinates(matrix.values[None], -projection.loadings[::-1])[0][0]
    assert np.allclose(flipped, -projection.coordinates[:, ::-1])
    # the full-rank coordinates keep every pairwise distance of the matrix
    d = np.linalg.norm(matrix.values[:, None] - matrix.values[None], axis=2)
    assert np.allclose(np.linalg.norm(full[0][:, None] - full[0][None], axis=2), d)


def test_stability_definition():
    categories = np.array([1, 1, 1, 2])
    co = np.array([[1.0, 0.9, 0.7, 0.0],
                   [0.9, 1.0, 0.5, 0.1],
                   [0.7, 0.5, 1.0, 0.2],
                   [0.0, 0.1, 0.2, 1.0]])
    alone = np.array([0.0, 0.0, 0.0, 0.6])
    assert stability(categories, co, alone) == pytest.approx([0.8, 0.7, 0.6, 0.6])


def test_batched_kmeans_equals_one_at_a_time():
    rng = np.random.default_rng(3)
    stack = rng.normal(size=(6, 12, 3)) + np.repeat(np.eye(3) * 4, 4, axis=0)[None]
    labels, inertias = kmeans_stack(stack, 3, seed=5)
    for i, matrix in enumerate(stack):
        one_labels, one_inertia = kmeans(matrix, 3, seed=7)
        assert inertias[i] == pytest.approx(one_inertia)   # same optimum, any seed
        same = labels[i][:, None] == labels[i][None]
        assert np.array_equal(same, one_labels[:, None] == one_labels[None])


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("bootstrap")
    db = root / "lce.duckdb"
    assert run_lce("--db", str(db), "import", "profiles",
                   str(write_mustapha_profiles(root / "p.csv"))).returncode == 0
    assert run_lce("--db", str(db), "import", "benchmarks", str(write_tidy_benchmarks(
        root / "b.csv")), "--format", "tidy").returncode == 0
    return db


def test_categorize_bootstrap_prints_stability_and_intervals(db):
    args = ("--db", str(db), "categorize", "--where", "display_name <> 'Blank'", "--k", "3",
            "--bootstrap", "60", "--seed", "2", "--format", "json")
    first = run_lce(*args)
    assert first.returncode == 0, first.stderr
    assert "60 unit-bootstrap replicates" in first.stderr
    rows = json.loads(first.stdout)
    assert len(rows) == 9
    for row in rows:
        assert 0.0 <= row["stability"] <= 1.0
        assert row["pc1_lo"] <= row["pc1"] + 1e-9 and row["pc1"] <= row["pc1_hi"] + 1e-9
    assert first.stdout == run_lce(*args).stdout          # seeded


def test_correlate_bootstrap_adds_intervals(db):
    result = run_lce("--db", str(db), "correlate", "--bootstrap", "40", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = [r for r in json.loads(result.stdout) if r["pearson_r"] is not None]
    assert rows
    for row in rows:
        assert row["pearson_lo"] <= row["pearson_hi"]
        assert row["spearman_lo"] <= row["spearman_hi"]
