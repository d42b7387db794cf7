"""While DVC has removed warehouse/lce.duckdb to replace it, readers answer from the build that
dvc.lock records, in DVC's cache (issue 19, item 5); the reader loop during a real rebuild is in
tests/e2e/test_reliability_pipeline.py."""

import shutil
import subprocess

import pytest

from lce.errors import LCEError
from lce.warehouse.connect import committed_build, open_readonly
from tests.support.cli import cli_env, run_lce
from tests.support.warehouse import planted_models, planted_warehouse

MODELS_SQL = "select count(*) from models"


def sh(*args, cwd):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=cli_env(),
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A DVC project whose stage `wh` puts a planted warehouse at warehouse/lce.duckdb, built
    once for the module (``project`` hands each test its own copy)."""
    tmp_path = tmp_path_factory.mktemp("fallback")
    root = tmp_path / "project"
    root.mkdir()
    source = planted_warehouse(tmp_path / "planted")
    sh("git", "init", "-q", cwd=root)
    sh("dvc", "init", "-q", cwd=root)
    (root / "dvc.yaml").write_text(
        "stages:\n  wh:\n"
        f"    cmd: mkdir -p warehouse && cp {source} warehouse/.new && "
        "mv warehouse/.new warehouse/lce.duckdb\n"
        "    outs:\n      - warehouse/lce.duckdb\n")
    sh("dvc", "repro", "-q", cwd=root)
    return root


@pytest.fixture
def project(built, tmp_path):
    return shutil.copytree(built, tmp_path / "project", symlinks=True)


def test_a_removed_warehouse_is_read_from_the_build_dvc_lock_records(project):
    db = project / "warehouse/lce.duckdb"
    expected = db.read_bytes()
    db.unlink()  # what DVC does right before it runs (or restores) the warehouse stage
    build = committed_build(db)
    assert build is not None and build.read_bytes() == expected
    assert project / ".dvc" in build.parents
    con = open_readonly(db)
    try:
        assert con.execute(MODELS_SQL).fetchone()[0] == len(planted_models())
    finally:
        con.close()
    result = run_lce("query", MODELS_SQL, "-f", "csv", cwd=project)  # the default --db
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["count_star()", str(len(planted_models()))]


def test_no_recorded_build_means_no_warehouse(project, tmp_path):
    db = project / "warehouse/lce.duckdb"
    db.unlink()
    shutil.rmtree(project / ".dvc/cache")   # recorded, but not in the cache (never pulled)
    with pytest.raises(LCEError, match="no warehouse at"):
        open_readonly(db)
    other = project / "warehouse/other.duckdb"   # not an output of any stage
    assert committed_build(other) is None
    assert committed_build(tmp_path / "outside/lce.duckdb") is None   # not in a DVC project
