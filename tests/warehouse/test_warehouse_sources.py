"""The warehouse build with every optional source: null-baseline IoUs, full concept tables,
measured benchmark scores, training runs, reference imports, the analysis tables; plus a reader
racing a rebuild."""

import json
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from lce.contracts import CONCEPT_IOU, SCORES, TRAINING_METRICS, UNITS
from lce.io import write_json, write_parquet
from lce.warehouse.build import ANALYSIS_TABLES, DissectionResult, Sources, build_warehouse
from tests.support.cli import cli_env
from tests.support.warehouse import planted_models, write_mustapha_profiles, write_tidy_benchmarks

ALL_TABLES = ["models", "layers", "probes", "concepts", "units", "unit_categories",
              "unit_concepts", "benchmarks", "training_runs", "training_metrics",
              *ANALYSIS_TABLES]


def fake_dissection(root, model="tinynet"):
    UNITS.write(UNITS.frame({
        "model": model, "layer": "conv", "unit": [0, 1, 2], "threshold": [0.5, 0.6, 0.7],
        "label": ["dog", "", "sky"], "category": ["object", "", "object"],
        "iou": [0.2, 0.01, 0.05], "interpretable": [True, False, True],
        "null_iou": [0.02, 0.01, 0.03], "object_label": ["dog", "sky", "sky"],
        "object_iou": [0.2, 0.01, 0.05]}), root / model / UNITS.artifact)
    CONCEPT_IOU.write(CONCEPT_IOU.frame({
        "model": model, "layer": "conv", "unit": [0, 0, 2], "concept": ["dog", "sky", "sky"],
        "iou": [0.2, 0.01, 0.05], "intersect": [20, 1, 5], "union": [100, 100, 100]}),
        root / model / CONCEPT_IOU.artifact)
    write_json({"model": model, "arch": "tiny", "method": "random", "source": "random",
                "probe": "synthetic"}, root / model / "meta.json")
    return DissectionResult(root / model)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    bench = root / "bench"
    SCORES.write(SCORES.frame({"model": "tinynet", "task": "linear", "dataset": "MNIST",
                               "metric": "top1-accuracy", "value": [0.91],
                               "higher_is_better": [True], "source": "measured"}),
                 bench / "tinynet" / SCORES.artifact)
    train = root / "train"
    TRAINING_METRICS.write(TRAINING_METRICS.frame({
        "run": "dc-k100", "cycle": [0, 0, 1, 1], "metric": ["nmi", "loss", "nmi", "loss"],
        "value": [0.1, 2.0, 0.3, 1.5]}), train / "dc-k100" / TRAINING_METRICS.artifact)
    write_json({"run": "dc-k100", "method": "deepcluster", "k": 100},
               train / "dc-k100" / "run.json")
    analysis = root / "analysis"
    write_parquet(pd.DataFrame({"model": ["tinynet"], "category": [1], "clustering": ["kmeans"],
                                "k": [1]}), analysis / "model_categories.parquet")
    (analysis / "settings.json").write_text(json.dumps({"k": 1}))
    return dict(sources=Sources(
        results=(fake_dissection(root / "dissect"),),
        profile_imports=({"path": str(write_mustapha_profiles(root / "p.csv")),
                          "format": "mustapha"},),
        benchmark_imports=({"path": str(write_tidy_benchmarks(root / "b.csv")),
                            "format": "tidy"},),
        bench_dir=bench, train_dir=train, probe_name="synthetic"), analysis=analysis)


def snapshot(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in ALL_TABLES}
    finally:
        con.close()


def test_every_source_lands_in_its_table(sources, tmp_path):
    db = build_warehouse(tmp_path / "lce.duckdb", sources=sources["sources"],
                         analysis_dir=sources["analysis"])
    con = duckdb.connect(str(db), read_only=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    assert q("select unit, null_iou from units where model = 'tinynet' order by unit") == [
        (0, 0.02), (1, 0.01), (2, 0.03)]
    assert q("select label from units where model = 'tinynet' and unit = 1") == [(None,)]
    assert q("select count(*), sum(\"intersect\") from unit_concepts") == [(3, 26)]
    assert q("select model, source from benchmarks where task = 'linear'") == [
        ("tinynet", "measured")]
    assert q("select count(*) from benchmarks where source = 'published'") == [
        ((len(planted_models()) - 1) * 3,)]
    assert q("select run, method, params from training_runs") == [
        ("dc-k100", "deepcluster", '{"k": 100, "method": "deepcluster", "run": "dc-k100"}')]
    assert q("select value from training_metrics where cycle = 1 and metric = 'nmi'") == [(0.3,)]
    assert q("select probe, count(distinct model) from units group by probe order by probe") == [
        ("places365-netpqc", len(planted_models())), ("synthetic", 1)]
    assert q("select model, category from model_categories") == [("tinynet", 1)]
    assert q("select value from meta where key = 'analysis.k'") == [("1",)]
    con.close()


def test_rebuilding_twice_gives_the_same_tables(sources, tmp_path):
    first = build_warehouse(tmp_path / "a.duckdb", sources=sources["sources"],
                            analysis_dir=sources["analysis"])
    second = build_warehouse(tmp_path / "b.duckdb", sources=sources["sources"],
                             analysis_dir=sources["analysis"])
    assert snapshot(first) == snapshot(second)


def test_missing_optional_directories_are_skipped(tmp_path):
    db = build_warehouse(tmp_path / "lce.duckdb", sources=Sources(
        bench_dir=tmp_path / "none", train_dir=tmp_path / "none"),
        analysis_dir=tmp_path / "none")
    assert snapshot(db)["benchmarks"] == []


def test_bad_measured_scores_name_the_file(tmp_path):
    bench = tmp_path / "bench"
    write_parquet(pd.DataFrame({"model": ["m"], "value": [1.0]}), bench / "m" / "scores.parquet")
    from lce.errors import LCEError

    with pytest.raises(LCEError, match="scores.parquet: missing column 'task'"):
        build_warehouse(tmp_path / "lce.duckdb", sources=Sources(bench_dir=bench))
    assert not (tmp_path / "lce.duckdb").exists()


READER = """
import json, sys, time
from lce.errors import LCEError
from lce.warehouse.connect import open_readonly
seen, errors = set(), 0
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        con = open_readonly(sys.argv[1])
    except LCEError as exc:
        assert "retry" in (exc.hint or ""), exc   # the one error a reader may get
        errors += 1
        continue
    seen.add(tuple(con.execute(
        "select (select count(*) from units), (select count(*) from models), "
        "(select count(*) from benchmarks), (select sum(n_units) from layers)").fetchone()))
    con.close()
print(json.dumps([sorted(seen), errors]))
"""


def counts(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(con.execute(
            "select (select count(*) from units), (select count(*) from models), "
            "(select count(*) from benchmarks), (select sum(n_units) from layers)").fetchone())
    finally:
        con.close()


@pytest.mark.slow  # a reader in a new interpreter through repeated rebuilds
def test_reader_during_concurrent_rebuilds_sees_whole_warehouses(sources, tmp_path):
    """Rebuilds alternate between two different source sets; every connection the reader opens
    must hold all of one of them, never units of one and models or benchmarks of the other."""
    import json

    new = sources["sources"]
    old = Sources(profile_imports=({"path": str(write_mustapha_profiles(
        tmp_path / "few.csv", dict(list(planted_models().items())[:4]))), "format": "mustapha"},))
    db = tmp_path / "lce.duckdb"
    expected = {counts(build_warehouse(db, sources=s)) for s in (new, old)}
    assert len(expected) == 2
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), "6"], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    rebuilds = 0
    while reader.poll() is None:
        build_warehouse(db, sources=(new, old)[rebuilds % 2])
        rebuilds += 1
    out, err = reader.communicate()
    assert reader.returncode == 0, err
    seen, _ = json.loads(out)
    assert rebuilds >= 2
    assert {tuple(s) for s in seen} == expected, out   # both versions read, never a mix


def test_concurrent_imports_both_land(tmp_path):
    import threading
    import time

    from lce.warehouse.ingest import edit_atomically, insert_benchmarks

    db = tmp_path / "lce.duckdb"

    def add(model):
        def edit(con):
            time.sleep(0.3)   # hold the copy long enough for the other import to overlap
            return insert_benchmarks(con, pd.DataFrame({
                "model": [model], "task": "t", "dataset": "d", "metric": "m", "value": [1.0],
                "higher_is_better": [True], "source": "published"}))
        edit_atomically(db, edit)

    threads = [threading.Thread(target=add, args=(m,)) for m in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r[0] for r in snapshot(db)["benchmarks"]] == ["a", "b"]
