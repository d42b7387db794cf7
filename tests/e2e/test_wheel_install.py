"""A plain (non-editable) install works outside the checkout: the package carries its SQL.

The wheel is built from this checkout and installed into a fresh virtual environment that borrows
the project venv's third-party packages (a path entry, so the project's own editable install is
not seen), then ``lce import``, ``lce models`` and a canned analysis run from a directory that is
not the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.cli import REPO
from tests.support.warehouse import write_mustapha_profiles

pytestmark = pytest.mark.slow


def run(*args, cwd: Path) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                            timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` directory of a venv with LCE installed from its wheel."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: building writes build/ and egg-info beside the sources
    shutil.copytree(REPO / "lce", source / "lce",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "-w", work / "dist", source, cwd=work)
    wheel = next((work / "dist").glob("lce-*.whl"))
    run(sys.executable, "-m", "venv", "--without-pip", work / "venv", cwd=work)
    site = Path(sysconfig.get_paths(vars={"base": str(work / "venv"),
                                          "platbase": str(work / "venv")})["purelib"])
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", work / "venv/bin/python", "install", "--quiet",
        "--no-deps", "--no-index", wheel, cwd=work)
    return work / "venv/bin"


def test_an_installed_wheel_imports_and_queries_outside_the_checkout(installed, tmp_path):
    located = run(installed / "python", "-c", "import lce; print(lce.__file__)", cwd=tmp_path)
    assert not located.startswith(str(REPO)), "the checkout's code was imported, not the wheel's"
    profiles = write_mustapha_profiles(tmp_path / "profiles.csv")
    db = tmp_path / "w.duckdb"
    run(installed / "lce", "--db", db, "import", "profiles", profiles, "--format", "mustapha",
        cwd=tmp_path)
    models = run(installed / "lce", "--db", db, "models", "--format", "csv", cwd=tmp_path)
    assert len(models.strip().splitlines()) > 1
    first = models.splitlines()[1].split(",")[0]
    concepts = run(installed / "lce", "--db", db, "concepts", first, "--format", "csv",
                   cwd=tmp_path)
    assert len(concepts.strip().splitlines()) > 1
