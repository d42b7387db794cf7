"""The analysis commands as a user runs them: import, models, concepts, units, compare,
categorize, correlate, neighbors; formats and one-line errors."""

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.conftest import cli_env, run_lce
from tests.lce_fixtures import write_mustapha_profiles, write_tidy_benchmarks
from tests.test_query_cli import assert_one_error_line


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


def lce_json(db, *args):
    result = run_lce("--db", str(db), *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_models_lists_display_names(db):
    rows = lce_json(db, "models")
    assert len(rows) == 10
    blank = next(r for r in rows if r["display_name"] == "Blank")
    assert blank["model"] == "resnet50-blank" and blank["interpretable"] == 3
    assert blank["probe"] == "broden-dissect" and blank["origin"] == "imported"


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
    fixed = lce_json(db, "categorize", "--models", names, "--k", "2", "--method",
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
    (["categorize", "--method", "dbscan"], "unknown clustering method"),
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
