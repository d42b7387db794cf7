"""Imports never shrink a model silently and check that every layer's units number 0..n-1
(issue 19, item 3): a file cut short at a line boundary must not replace a complete model."""

import duckdb
import pytest

from lce.errors import LCEError
from lce.warehouse.importers import read_profiles
from tests.support.cli import run_lce
from tests.support.warehouse import UNITS, planted_models, write_mustapha_profiles


def unit_counts(db) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("select model, count(*) from units group by model").fetchall())
    finally:
        con.close()


def truncated(source, dest, lines: int):
    dest.write_text("".join(source.read_text().splitlines(keepends=True)[:lines]))
    return dest


def test_a_truncated_file_does_not_shrink_an_imported_model(tmp_path):
    full = write_mustapha_profiles(tmp_path / "full.csv")
    db = tmp_path / "p.duckdb"
    assert run_lce("--db", str(db), "import", "profiles", str(full)).returncode == 0
    before = db.read_bytes()
    counts = unit_counts(db)
    # the header, two whole models and 10 units of the third: a clean cut at a line boundary
    cut = truncated(full, tmp_path / "t.csv", 1 + 2 * UNITS + 10)
    third = list(planted_models())[2]

    result = run_lce("--db", str(db), "import", "profiles", str(cut))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: t.csv: the import would shrink model "
                                    f"resnet50-{third.lower()}, layer layer4 from {UNITS} to 10 "
                                    "units")
    assert "--replace" in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == before  # the warehouse is untouched, byte for byte

    replaced = run_lce("--db", str(db), "import", "profiles", str(cut), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert unit_counts(db) == {**counts, f"resnet50-{third.lower()}": 10}


def test_an_import_replaces_only_the_layers_it_holds(tmp_path):
    db = tmp_path / "p.duckdb"
    for layer, units in (("layer3", 3), ("layer4", 2)):
        path = tmp_path / f"{layer}.csv"
        path.write_text("unit,category,label,score\n" + "".join(
            f"{u + 1},object,dog,0.1\n" for u in range(units)))
        result = run_lce("--db", str(db), "import", "profiles", str(path), "--format",
                         "netdissect", "--model", "m", "--layer", layer)
        assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select layer, n_units from layers order by layer").fetchall() == [
        ("layer3", 3), ("layer4", 2)]
    con.close()


@pytest.mark.parametrize(("units", "fragment"), [
    ([0, 1, 3, 5], "model resnet50-a, layer layer4: units 2, 4 missing (units must number "
                   "0..n-1; found 4, highest 5)"),
    ([0, 1, 1, 2], "model resnet50-a, layer layer4: unit 1 appears twice"),
    ([1, 2, 3], "model resnet50-a, layer layer4: units 0 missing"),
    ([-1, 0, 1], "model resnet50-a, layer layer4: unit -1: units must number 0..n-1"),
])
def test_units_must_form_a_complete_range_per_layer(tmp_path, units, fragment):
    path = tmp_path / "gaps.csv"
    path.write_text(",name,unit,iou,label,category\n" + "".join(
        f"{i},A(R),{u},0.1,dog,object\n" for i, u in enumerate(units)))
    with pytest.raises(LCEError) as info:
        read_profiles(path, "mustapha")
    assert str(info.value).startswith(f"{path}: {fragment}")


def test_json_profiles_are_checked_per_layer_too(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{"units": [{"unit": 0, "iou": 0.2}, {"unit": 2, "iou": 0.1}]}')
    with pytest.raises(LCEError, match=r"model m, layer layer4: units 1 missing"):
        read_profiles(path, "dissect-json", model="m", layer="layer4")


def test_the_seed_paper_file_cut_at_line_20001_keeps_infomin_whole(shared_data, tmp_path):
    """The issue's reproduction on the real published file (20 models x 2,048 units)."""
    full = shared_data / "mustapha2022/models_dissect_profiles_raw.csv"
    db = tmp_path / "p.duckdb"
    assert run_lce("--db", str(db), "import", "profiles", str(full)).returncode == 0
    before = db.read_bytes()
    result = run_lce("--db", str(db), "import", "profiles",
                     str(truncated(full, tmp_path / "t.csv", 20001)))
    assert result.returncode == 1
    assert "would shrink model resnet50-infomin, layer layer4 from 2048 to 1568 units" \
        in result.stderr
    assert db.read_bytes() == before
    assert unit_counts(db)["resnet50-infomin"] == 2048
