"""The artifact contracts (lce/contracts.py): refused writes, the DDL derived from them, loading by
name, the one no-label value, and a new column flowing into the warehouse with no other edit."""

from __future__ import annotations

import dataclasses
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from lce.contracts import (
    CONTRACTS,
    NO_LABEL,
    SCORES,
    TRAINING_METRICS,
    UNITS,
    Column,
    check_summary,
    table_columns,
)
from lce.dissect.concepts import ConceptIndex
from lce.dissect.labels import label_units
from lce.errors import LCEError
from lce.io import write_json, write_parquet
from lce.warehouse.build import DissectionResult, Sources, build_warehouse
from lce.warehouse.database import create_schema
from lce.warehouse.ingest import edit_atomically, insert_benchmarks
from tests.support.warehouse import duplicate_names_warehouse

SCORE_ROW = dict(model="m", task="many-shot", dataset="Cars", metric="top1-accuracy", value=0.5,
                 higher_is_better=True, source="measured")


def _units(**overrides) -> list[dict]:
    row = dict(model="m", layer="l", unit=0, threshold=0.5, label="dog", category="object",
               iou=0.2, interpretable=True, null_iou=0.01)
    return [{**row, "unit": u, **overrides} for u in range(3)]


def _dissection(root, frame, probe="p"):
    write_parquet(frame, root / "units.parquet")  # a file as any producer may have left it
    write_json({"model": "m", "arch": "tiny", "method": "random", "source": "random",
                "probe": probe}, root / "meta.json")
    return DissectionResult(root)


def _one_line(exc) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("change", "column"), [
    (lambda f: f.drop(columns="iou"), "missing column 'iou'"),
    (lambda f: f.assign(iou=f["iou"].astype(str)), "column 'iou' is string, expected double"),
    (lambda f: f.assign(unit=f["unit"].astype("int64")), "column 'unit' is int64, expected int32"),
    (lambda f: f.assign(extra=1), "column 'extra' is not in the contract"),
    (lambda f: f.assign(label=[None, "dog", "dog"]), "column 'label' has nulls"),
    (lambda f: f[["layer", "model", *f.columns[2:]]], "column 'layer' out of order"),
])
def test_a_wrong_unit_profile_is_refused_naming_artifact_and_column(tmp_path, change, column):
    path = tmp_path / "units.parquet"
    with pytest.raises(LCEError) as info:
        UNITS.write(change(UNITS.frame(_units())), path)
    message = _one_line(info)
    assert "units.parquet" in message and column in message
    assert not path.exists()


def test_a_wrong_score_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "scores.parquet"
    with pytest.raises(LCEError, match=r"scores.parquet: column 'value' is string"):
        SCORES.write(pd.DataFrame([{**SCORE_ROW, "value": "high"}]), path)
    assert not path.exists()
    with pytest.raises(LCEError, match=r"scores.parquet: column 'value': expected double"):
        SCORES.frame([{**SCORE_ROW, "value": "high"}])
    with pytest.raises(LCEError, match="missing column 'source'"):
        SCORES.frame([{k: v for k, v in SCORE_ROW.items() if k != "source"}])


def test_a_correct_frame_is_written_unchanged(tmp_path):
    frame = UNITS.frame(_units())
    ours, plain = tmp_path / "a.parquet", tmp_path / "b.parquet"
    UNITS.write(frame, ours)
    write_parquet(frame, plain)
    assert ours.read_bytes() == plain.read_bytes()


def test_the_training_summary_holds_only_declared_keys():
    assert check_summary({"linear_top1": 0.5, "cycles": 3}, "run") == {"linear_top1": 0.5,
                                                                       "cycles": 3}
    with pytest.raises(LCEError, match="key 'wall_s': not in the contract"):
        check_summary({"linear_top1": 0.5, "cycles": 3, "wall_s": 1.0}, "run")
    with pytest.raises(LCEError, match="key 'cycles': expected int"):
        check_summary({"linear_top1": 0.5, "cycles": 3.0}, "run")


def _described(con, table: str) -> list[tuple[str, str, bool]]:
    return [(name, kind, null == "YES") for name, kind, null, *_ in
            con.execute(f"DESCRIBE {table}").fetchall()]


def test_the_warehouse_tables_are_the_declared_contracts():
    duck = {"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "float": "DOUBLE",
            "double": "DOUBLE", "bool": "BOOLEAN"}
    con = duckdb.connect()
    create_schema(con)
    for contract in (c for c in CONTRACTS if c.table is not None):
        expected = [(c.name, duck[c.type], c.nullable or c.label or c.optional)
                    for c in table_columns(contract, contract.table)]
        assert _described(con, contract.table.name) == expected, contract.artifact
    per_category = [(c.name, duck[c.type], c.label) for c in UNITS.per_category]
    assert _described(con, "unit_categories")[-3:] == [("category", "VARCHAR", False),
                                                       *per_category]


def test_loading_goes_by_name_whatever_the_column_order(tmp_path):
    frame = UNITS.frame(_units())
    shuffled = frame[list(reversed(frame.columns))]
    db = build_warehouse(tmp_path / "lce.duckdb", sources=Sources(
        results=(_dissection(tmp_path / "a", shuffled),)))
    edit_atomically(db, lambda con: insert_benchmarks(
        con, SCORES.frame([SCORE_ROW])[list(reversed(SCORES.names))]))
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT unit, threshold, label, iou, null_iou FROM units ORDER BY unit"
                       ).fetchall() == [(u, 0.5, "dog", 0.2, 0.01) for u in range(3)]
    assert con.execute("SELECT model, value, higher_is_better, source FROM benchmarks"
                       ).fetchall() == [("m", 0.5, True, "measured")]
    con.close()


def test_a_file_lacking_a_column_is_refused_on_load(tmp_path):
    frame = UNITS.frame(_units()).drop(columns="interpretable")
    with pytest.raises(LCEError, match="units.parquet: missing column 'interpretable'"):
        build_warehouse(tmp_path / "lce.duckdb",
                        sources=Sources(results=(_dissection(tmp_path / "a", frame),)))


def test_no_label_round_trips_from_the_engine_to_the_warehouse(tmp_path):
    index = ConceptIndex(np.array([1, 2]), ["object", "color"], np.array([0, 1]))
    iou = np.array([[0.3, 0.0], [0.0, 0.0]])  # unit 1 overlaps nothing; unit 0 no colour
    frame = label_units(iou, index, {1: "dog", 2: "red"})
    assert frame["label"].tolist() == ["dog", NO_LABEL]
    assert frame["color_label"].tolist() == [NO_LABEL, NO_LABEL]
    frame.insert(0, "layer", "l")
    frame.insert(0, "model", "m")
    frame.insert(3, "threshold", np.float32(0.5))
    frame.insert(7, "interpretable", frame["iou"] > 0.04)
    (tmp_path / "a").mkdir()
    UNITS.write(frame, tmp_path / "a" / "units.parquet")
    db = build_warehouse(tmp_path / "lce.duckdb", sources=Sources(
        results=(_dissection(tmp_path / "a", pd.read_parquet(tmp_path / "a/units.parquet")),)))
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT unit, label, category FROM units ORDER BY unit").fetchall() == [
        (0, "dog", "object"), (1, None, None)]
    assert con.execute("SELECT unit, category, label FROM unit_categories WHERE label IS NULL "
                       "ORDER BY unit, category").fetchall() == [
        (0, "color", None), (1, "color", None), (1, "object", None)]
    con.close()


def test_a_published_dash_is_no_label_in_the_warehouse(tmp_path):
    con = duckdb.connect(str(duplicate_names_warehouse(tmp_path, dissected=False)),
                         read_only=True)
    # C(R) unit 2 is '-' in the file (Dissect's spelling of no label)
    assert con.execute("SELECT label, category, interpretable FROM units JOIN models "
                       "USING (model) WHERE display_name = 'C' AND unit = 2").fetchall() == [
        (None, "object", False)]
    assert con.execute("SELECT count(*) FROM units WHERE label = '-' OR label = ''"
                       ).fetchone() == (0,)
    con.close()


@pytest.fixture
def units_with_depth():
    """The unit-profile contract with one more (optional) column, restored afterwards."""
    before = UNITS.columns
    object.__setattr__(UNITS, "columns", before + (Column("depth", "int32", optional=True),))
    yield UNITS
    object.__setattr__(UNITS, "columns", before)


def test_a_column_added_to_a_contract_reaches_the_warehouse(tmp_path, units_with_depth):
    frame = units_with_depth.frame([{**row, "depth": 7 + row["unit"]} for row in _units()])
    (tmp_path / "a").mkdir()
    units_with_depth.write(frame, tmp_path / "a" / "units.parquet")
    write_json({"model": "m", "probe": "p"}, tmp_path / "a" / "meta.json")
    db = build_warehouse(tmp_path / "lce.duckdb",
                         sources=Sources(results=(DissectionResult(tmp_path / "a"),)))
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT unit, depth FROM units ORDER BY unit").fetchall() == [
        (0, 7), (1, 8), (2, 9)]
    con.close()


def test_an_older_warehouse_is_refused_on_import(tmp_path):
    db = build_warehouse(tmp_path / "lce.duckdb")
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(LCEError, match="built by schema 4; this LCE writes schema") as info:
        edit_atomically(db, lambda con: insert_benchmarks(con, SCORES.frame([SCORE_ROW])))
    assert "rebuild" in info.value.hint


def test_write_json_is_the_deterministic_idiom(tmp_path):
    data = {"b": [1, 2], "a": {"z": 1.5, "y": None}}
    path = write_json(data, tmp_path / "x.json")
    assert path.read_text() == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left


def test_the_contracts_are_frozen_declarations():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TRAINING_METRICS.columns = ()  # type: ignore[misc]
