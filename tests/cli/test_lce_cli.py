"""The analysis commands as a user runs them: import, models, concepts, units, compare,
categorize, correlate, neighbors; formats, output files, probe sets and one-line errors."""

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.support.cli import assert_one_error_line, cli_env, run_lce
from tests.support.warehouse import (
    duplicate_names_warehouse,
    write_mustapha_profiles,
    write_tidy_benchmarks,
)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    db = root / "lce.duckdb"
    first = run_lce("--db", str(db), "import", "profiles",
                    str(write_mustapha_profiles(root / "p.csv")))
    assert first.returncode == 0, first.stderr
    assert "imported 640 units of 10 model(s)" in first.stderr
    second = run_lce("--db", str(db), "import", "benchmarks",
                     str(write_tidy_benchmarks(root / "b.csv")), "--format", "tidy")
    assert second.returncode == 0, second.stderr
    return db


@pytest.fixture(scope="module")
def two_probes(tmp_path_factory):
    """Models A and B dissected on probe 'synthetic' and imported on 'places365-netpqc'."""
    return duplicate_names_warehouse(tmp_path_factory.mktemp("two-probes"))


def lce_json(db, *args):
    result = run_lce("--db", str(db), *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_models_lists_display_names(db):
    rows = lce_json(db, "models")
    assert len(rows) == 10
    blank = next(r for r in rows if r["display_name"] == "Blank")
    assert blank["model"] == "resnet50-blank" and blank["interpretable"] == 3
    assert blank["probe"] == "places365-netpqc" and blank["origin"] == "imported"


def test_concepts_units_compare_accept_display_names(db):
    top = lce_json(db, "concepts", "AnimalNet1", "--top", "2")
    assert len(top) == 2 and {top[0]["concept"], top[1]["concept"]} <= {"dog", "cat", "fur",
                                                                         "leg"}
    dogs = lce_json(db, "units", "animalnet1", "--concept", "dog")
    assert dogs and all(r["label"] == "dog" for r in dogs)
    assert [r["iou"] for r in dogs] == sorted((r["iou"] for r in dogs), reverse=True)
    rows = lce_json(db, "compare", "AnimalNet1", "VehicleNet1")
    status = {r["concept"]: r["status"] for r in rows}
    assert status.get("sky") is None          # neither has it
    assert "shared" in status.values()
    assert rows[0]["status"] == "shared"


def test_categorize_elbow_and_fixed_k(db):
    result = run_lce("--db", str(db), "categorize", "--where", "display_name <> 'Blank'",
                     "-f", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["model", "category", "pc1", "pc2", "pc3"]
    assert len({r["category"] for r in rows}) == 3 and "k = 3 (elbow" in result.stderr
    names = "AnimalNet1,AnimalNet2,VehicleNet1,VehicleNet2,NatureNet1,NatureNet2"
    fixed = lce_json(db, "categorize", "--models", names, "--k", "2", "--clustering",
                     "agglomerative")
    assert len(fixed) == 6 and {r["category"] for r in fixed} == {1, 2}


def test_correlate_and_neighbors(db):
    rows = lce_json(db, "correlate", "--where", "display_name <> 'Blank'")
    assert {r["variable"] for r in rows} == {"many-shot/Cars/top1-accuracy",
                                             "many-shot/Pets/top1-accuracy",
                                             "surface-normals/NYUv2/mean-angular-error"}
    assert {r["component"] for r in rows} == {1, 2, 3} and all(r["n"] == 9 for r in rows)
    only = lce_json(db, "correlate", "--task", "surface-normals", "--where",
                    "display_name <> 'Blank'")
    assert len(only) == 3
    near = lce_json(db, "neighbors", "VehicleNet1", "--top", "2")
    assert sorted(r["model"] for r in near) == ["resnet50-vehiclenet2", "resnet50-vehiclenet3"]
    pairs = lce_json(db, "neighbors", "--complementary", "--where", "display_name <> 'Blank'")
    assert pairs and pairs[0]["cosine_distance"] >= pairs[-1]["cosine_distance"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["concepts", "NoSuchNet"], "unknown model 'NoSuchNet'"),
    (["categorize", "--models", "AnimalNet1,Nope"], "unknown model 'Nope'"),
    (["categorize", "--k", "50"], "k = 50 categories for 10 models"),
    (["categorize", "--clustering", "dbscan"], "unknown clustering method"),
    (["categorize", "--where", "bogus ="], "bad model filter"),
    (["correlate", "--task", "nonesuch"], "no benchmark scores"),
    (["neighbors"], "name a MODEL"),
    (["categorize", "--layer", "layer9"], "layer 'layer9' is not profiled"),
])
def test_analysis_errors_are_one_line(db, args, fragment):
    assert_one_error_line(run_lce("--db", str(db), *args), fragment)


def test_import_errors_are_one_line_and_leave_the_warehouse(tmp_path, db):
    bad = tmp_path / "bad.csv"
    bad.write_text(",name,unit,iou,label,category\n0,A(R),0,x,dog,object\n")
    before = db.read_bytes()
    assert_one_error_line(run_lce("--db", str(db), "import", "profiles", str(bad)),
                          "line 2: column 'iou'")
    assert_one_error_line(run_lce("--db", str(db), "import", "profiles", str(bad),
                                  "--format", "netdissect"), "do not name their model")
    assert_one_error_line(run_lce("--db", str(db), "import", "benchmarks",
                                  str(tmp_path / "missing.csv")), "file not found")
    assert db.read_bytes() == before


@pytest.mark.slow  # a new interpreter: see tests/cli/test_entry_points.py
def test_browse_commands_do_not_import_heavy_modules(db):
    code = ("import sys, runpy\n"
            f"sys.argv = ['lce', '--db', {str(db)!r}, 'concepts', 'AnimalNet1']\n"
            "try:\n    runpy.run_module('lce', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('torch', 'pandas', 'sklearn', 'scipy') "
            "if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=cli_env())
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_canned_queries_read_one_probe_set(two_probes):
    assert_one_error_line(run_lce("--db", str(two_probes), "concepts", "A"),
                          "model 'resnet50-a' was profiled on 2 probe sets "
                          "(places365-netpqc, synthetic)")
    dissected = lce_json(two_probes, "concepts", "A", "--probe", "synthetic")
    assert [(r["concept"], r["units"], r["layers"]) for r in dissected] == [
        ("dog", 2, "layer3,layer4"), ("sky", 1, "layer3"), ("red", 1, "layer4")]
    assert len(lce_json(two_probes, "units", "A", "--probe", "places365-netpqc")) == 4
    # A and C share one probe set only: it is used without asking
    shared = lce_json(two_probes, "compare", "A", "C")
    assert [(r["concept"], r["category"], r["units_a"], r["units_b"]) for r in shared] == [
        ("food", "material", 2, 1), ("dog", "object", 1, 1), ("food", "object", 1, 0)]
    pair = lce_json(two_probes, "compare", "A", "B", "--probe", "synthetic")
    assert {r["concept"]: r["status"] for r in pair} == {
        "sky": "only resnet50-a", "red": "only resnet50-a", "car": "only resnet50-b",
        "dog": "only resnet50-a"}
    assert_one_error_line(run_lce("--db", str(two_probes), "units", "C", "--probe", "synthetic"),
                          "model 'resnet50-c' has no units on probe 'synthetic'")


def test_layer_and_a_name_in_two_categories(two_probes):
    layer3 = lce_json(two_probes, "concepts", "A", "--probe", "synthetic", "--layer", "layer3")
    assert {(r["concept"], r["units"]) for r in layer3} == {("dog", 1), ("sky", 1)}
    layer4 = lce_json(two_probes, "units", "A", "--probe", "synthetic", "--layer", "layer4")
    assert [(r["unit"], r["label"]) for r in layer4] == [(0, "dog"), (1, "red")]
    food = lce_json(two_probes, "units", "A", "--probe", "places365-netpqc", "--concept", "food")
    assert sorted(r["category"] for r in food) == ["material", "material", "object"]
    one = lce_json(two_probes, "units", "A", "--probe", "places365-netpqc", "--concept",
                   "food (object)")
    assert [(r["unit"], r["category"]) for r in one] == [(2, "object")]


def test_categorize_named_models_on_a_chosen_probe_set(two_probes, tmp_path):
    out = tmp_path / "categories.csv"
    result = run_lce("--db", str(two_probes), "categorize", "--models", "A,B", "--probe",
                     "synthetic", "-f", "csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "2 models, 4 concepts" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["model"] for r in rows] == ["resnet50-a", "resnet50-b"]


def test_correlate_profile_and_euclidean_neighbours(db):
    import duckdb

    from lce.analysis.distance import distances
    from lce.analysis.matrix import concept_matrix, resolve_models

    profile = lce_json(db, "correlate", "--kind", "profile")
    assert profile and {r["kind"] for r in profile} == {"profile"}
    assert {r["variable"] for r in profile} >= {"units_object", "concepts_color"}
    assert all(r["variable"].startswith(("units_", "concepts_")) for r in profile)
    near = lce_json(db, "neighbors", "VehicleNet1", "--metric", "euclidean")
    con = duckdb.connect(str(db), read_only=True)
    matrix = concept_matrix(con, resolve_models(con))
    con.close()
    d = distances(matrix.values, "euclidean")[matrix.models.index("resnet50-vehiclenet1")]
    expected = sorted((float(d[j]), m) for j, m in enumerate(matrix.models)
                      if m != "resnet50-vehiclenet1")
    assert [r["model"] for r in near] == [m for _, m in expected]
    assert [r["euclidean_distance"] for r in near] == pytest.approx([x for x, _ in expected])
    assert {near[0]["model"], near[1]["model"]} == {"resnet50-vehiclenet2",
                                                   "resnet50-vehiclenet3"}


NO_TORCH = """
import sys
from typer.testing import CliRunner
from lce.cli import app
runner = CliRunner()
for args in (["models"], ["concepts", "AnimalNet1"], ["units", "AnimalNet1", "--top", "3"],
             ["compare", "AnimalNet1", "VehicleNet1"], ["categorize"], ["correlate"],
             ["correlate", "--kind", "profile"], ["neighbors", "VehicleNet1"],
             ["neighbors", "--complementary"], ["warehouse", "info"]):
    result = runner.invoke(app, ["--db", sys.argv[1], *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
print("TORCH", "torch" in sys.modules)
"""


@pytest.mark.slow  # a new interpreter: see tests/cli/test_entry_points.py
def test_analysis_commands_do_not_import_torch(db):
    result = subprocess.run([sys.executable, "-c", NO_TORCH, str(db)], capture_output=True,
                            text=True, env=cli_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "TORCH False" in result.stdout, result.stdout
