"""`lce warehouse info` (where a shared warehouse came from) and the `summary` metrics."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import duckdb
import pytest

from lce.contracts import UNITS
from lce.errors import LCEError
from lce.summary import summarize
from lce.warehouse.database import SCHEMA_VERSION
from tests.support.cli import cli_env, run_lce


def info_rows(*args: str, db) -> list[dict]:
    result = run_lce("--db", str(db), "warehouse", "info", *args, "-f", "csv")
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_info_reports_meta_models_and_row_counts(warehouse_db):
    rows = info_rows(db=warehouse_db)
    by_section = {}
    for row in rows:
        by_section.setdefault(row["section"], {})[row["name"]] = row["value"]
    assert by_section["file"] == {"path": str(warehouse_db)}
    assert by_section["meta"]["schema_version"] == SCHEMA_VERSION
    assert by_section["meta"]["build_time"].startswith("20")
    assert "source_revision" in by_section["meta"]

    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        expected_counts = {table: str(con.execute(f"select count(*) from {table}").fetchone()[0])
                           for table in ("units", "models", "concepts", "meta", "unit_concepts")}
        interpretable = dict(con.execute("select model, count(*) filter (where interpretable) "
                                         "from units group by model").fetchall())
    finally:
        con.close()
    for table, count in expected_counts.items():
        assert by_section["tables"][table] == count
    assert by_section["tables"]["units"] == "320"
    assert set(by_section["models"]) == {"mobilenetv2-imagenet", "mobilenetv2-random"}
    described = by_section["models"]["mobilenetv2-random"]
    assert "layers=features.14" in described and "units=160" in described
    assert f"interpretable={interpretable['mobilenetv2-random']}" in described


def test_info_sections_and_json(warehouse_db):
    result = run_lce("--db", str(warehouse_db), "warehouse", "info", "-s", "models", "-f",
                     "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["name"] for r in records] == ["mobilenetv2-imagenet", "mobilenetv2-random"]
    assert {r["section"] for r in records} == {"models"}


def test_info_errors_are_one_line(warehouse_db, tmp_path):
    missing = run_lce("--db", str(tmp_path / "nope.duckdb"), "warehouse", "info")
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"Error: no warehouse at {tmp_path / 'nope.duckdb'}")

    bad_section = run_lce("--db", str(warehouse_db), "warehouse", "info", "-s", "colours")
    assert bad_section.returncode == 1
    assert bad_section.stderr.startswith("Error: unknown section 'colours'")

    foreign = tmp_path / "other.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("create table t (x int)")
    con.close()
    not_lce = run_lce("--db", str(foreign), "warehouse", "info")
    assert not_lce.returncode == 1
    assert not_lce.stderr.startswith("Error: not an LCE warehouse: table 'layers' is missing")
    assert "Traceback" not in missing.stderr + bad_section.stderr + not_lce.stderr


@pytest.mark.slow  # a new interpreter: see tests/cli/test_entry_points.py
def test_info_does_not_import_the_scientific_stack(warehouse_db):
    code = ("import sys; from lce.cli import app; "
            "from typer.testing import CliRunner; "
            f"r = CliRunner().invoke(app, ['--db', {str(warehouse_db)!r}, 'warehouse', 'info']); "
            "assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('torch', 'pandas', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=cli_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _profile(path, interpretable: list[bool], labels: list[str]):
    UNITS.write(UNITS.frame({"model": "m", "layer": "l", "unit": range(len(labels)),
                             "threshold": 0.5, "label": labels, "category": "object",
                             "iou": 0.1, "interpretable": interpretable}),
                path / UNITS.artifact)
    return path


def test_summary_counts_planted_units(tmp_path):
    a = _profile(tmp_path / "a", [True, True, True, False, False],
                 ["dog", "dog", "grass", "sky", ""])
    b = _profile(tmp_path / "b", [False, False], ["", ""])
    summary = summarize({"b": b, "a": a})
    assert summary == {
        "models": {
            "a": {"units": 5, "interpretable": 3, "interpretable_fraction": 0.6,
                  "distinct_concepts": 2},
            "b": {"units": 2, "interpretable": 0, "interpretable_fraction": 0.0,
                  "distinct_concepts": 0},
        },
        "interpretable": 3,
    }
    assert list(summary["models"]) == ["a", "b"]


def test_summary_names_a_missing_profile(tmp_path):
    with pytest.raises(LCEError, match=r"missing/units.parquet: file not found"):
        summarize({"x": tmp_path / "missing"})
