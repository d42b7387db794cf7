import os

import duckdb
import pytest

from lce.probe.broden import BrodenProbe
from lce.warehouse import build as build_module
from lce.warehouse.build import build_warehouse
from lce.warehouse.database import SCHEMA_VERSION

TABLES = ["probes", "concepts", "models", "layers", "units", "unit_categories"]


def snapshot(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in TABLES}
    finally:
        con.close()


def test_warehouse_has_the_design_tables(warehouse_db):
    con = duckdb.connect(str(warehouse_db), read_only=True)
    tables = {r[0] for r in con.execute("show tables").fetchall()}
    assert {"models", "concepts", "units", "meta", "layers", "probes", "benchmarks",
            "training_runs", "training_metrics", "unit_concepts"} <= tables
    meta = dict(con.execute("select key, value from meta").fetchall())
    assert meta["schema_version"] == SCHEMA_VERSION
    assert {"build_time", "source_revision", "lce_version"} <= set(meta)
    n_units = con.execute("select count(*) from units").fetchone()[0]
    assert n_units == 2 * 160  # features.14 of MobileNetV2 has 160 channels, two models
    n_cat = con.execute("select count(*) from unit_categories").fetchone()[0]
    assert n_cat == n_units * 6
    # interpretable agrees with the cut-off
    assert con.execute("select count(*) from units where interpretable <> (iou > 0.04)"
                       ).fetchone()[0] == 0
    con.close()


def test_rebuild_gives_the_same_contents(tiny_probe, dissection_results, warehouse_db, tmp_path):
    again = build_warehouse(tmp_path / "again.duckdb", BrodenProbe(tiny_probe), "tiny",
                            dissection_results)
    assert snapshot(again) == snapshot(warehouse_db)


def test_failed_build_keeps_the_old_warehouse_and_leaves_no_temp_files(
        tiny_probe, dissection_results, tmp_path, monkeypatch):
    target = tmp_path / "lce.duckdb"
    build_warehouse(target, BrodenProbe(tiny_probe), "tiny", dissection_results)
    before = snapshot(target)

    def explode(con, result):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(build_module, "load_dissection", explode)
    with pytest.raises(RuntimeError):
        build_warehouse(target, BrodenProbe(tiny_probe), "tiny", dissection_results)
    assert snapshot(target) == before
    assert sorted(os.listdir(tmp_path)) == ["lce.duckdb"]


def test_reader_keeps_old_data_while_a_rebuild_replaces_the_file(
        tiny_probe, dissection_results, tmp_path):
    target = tmp_path / "lce.duckdb"
    build_warehouse(target, BrodenProbe(tiny_probe), "tiny", dissection_results[:1])
    reader = duckdb.connect(str(target), read_only=True)
    build_warehouse(target, BrodenProbe(tiny_probe), "tiny", dissection_results)
    assert reader.execute("select count(distinct model) from units").fetchone()[0] == 1
    reader.close()
    assert snapshot(target)["models"][1][0] == "mobilenetv2-random"
