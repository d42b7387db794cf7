"""Importers of published unit profiles: the seed paper's CSV, NetDissect tallies, Dissect JSON."""

import json

import duckdb
import pytest

from lce.contracts import NO_LABEL
from lce.contracts import UNITS as UNIT_PROFILE
from lce.errors import LCEError
from lce.warehouse.importers import read_profiles
from lce.warehouse.ingest import edit_atomically, insert_profiles
from lce.warehouse.names import model_key
from tests.support.warehouse import UNITS, planted_models, write_mustapha_profiles


def test_published_names_map_to_zoo_keys():
    assert model_key("MoCoV2(R)") == "resnet50-mocov2"
    assert model_key("DeepClusterV2") == "resnet50-deepclusterv2"
    assert model_key("SwAV400_2x244(R)") == "resnet50-swav-400ep-2x224"  # the zoo knows the variant
    assert model_key("resnet50-byol") == "resnet50-byol"


def test_mustapha_profiles_keep_keys_display_names_and_dash_labels(tmp_path):
    profiles = read_profiles(write_mustapha_profiles(tmp_path / "p.csv"), "mustapha")
    units = profiles.units
    assert profiles.probe == "places365-netpqc"
    assert len(units) == len(planted_models()) * UNITS
    assert profiles.display_names["resnet50-animalnet1"] == "AnimalNet1"
    blank = units[units["model"] == "resnet50-blank"]
    assert (blank["label"] == NO_LABEL).sum() == UNITS - 3   # '-' is no label
    assert blank["interpretable"].sum() == 3                 # iou 0.06 > 0.04 with a real label
    assert (units["interpretable"] == ((units["iou"] > 0.04) & (units["label"] != NO_LABEL))
            ).all()


def test_import_into_a_new_warehouse_and_reimport_replaces(tmp_path):
    db = tmp_path / "lce.duckdb"
    profiles = read_profiles(write_mustapha_profiles(tmp_path / "p.csv"), "mustapha")
    for _ in range(2):
        edit_atomically(db, lambda con: insert_profiles(con, profiles))
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from units").fetchone()[0] == len(profiles.units)
    assert con.execute("select count(*) from models where origin = 'imported'"
                       ).fetchone()[0] == len(planted_models())
    assert con.execute("select category from concepts where concept = 'fur'").fetchone() == (
        "material",)
    assert {r[0] for r in con.execute("select key from meta").fetchall()} >= {
        "schema_version", "build_time", "source_revision"}
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lce.duckdb.lock", "lce.duckdb",
                                                          "p.csv"]  # no temporary copies left


def test_netdissect_tally_is_one_based_with_per_category_columns(tmp_path):
    path = tmp_path / "tally.csv"
    path.write_text(
        "unit,category,label,score,object-label,object-iou,color-label,color-iou\n"
        "1,object,dog,0.12,dog,0.12,red-c,0.01\n"
        "2,color,red-c,0.03,cat,0.02,red-c,0.03\n")
    profiles = read_profiles(path, "netdissect", model="resnet18", layer="layer4")
    assert profiles.probe == "broden-netdissect-lite"
    assert profiles.units["unit"].tolist() == [0, 1]
    assert profiles.units["interpretable"].tolist() == [True, False]
    assert UNIT_PROFILE.categories(profiles.units.columns) == ["color", "object"]
    assert profiles.units["color_label"].tolist() == ["red-c", "red-c"]
    assert profiles.units["object_iou"].tolist() == [0.12, 0.02]


def test_dissect_json(tmp_path):
    path = tmp_path / "report.json"
    units = [{"unit": 0, "iou": 0.2, "label": "sky", "cat": "object"},
             {"unit": 1, "iou": 0.01, "label": "red", "cat": "color"}]
    path.write_text(json.dumps({"units": units}))
    profiles = read_profiles(path, "dissect-json", model="m", layer="layer4")
    assert profiles.units["label"].tolist() == ["sky", "red"]
    assert profiles.units["interpretable"].tolist() == [True, False]


@pytest.mark.parametrize(("content", "fragment"), [
    (",name,unit,iou,label\n0,A(R),0,0.1,dog\n", "missing column 'category'"),
    (",name,unit,iou,label,category\n0,A(R),0,high,dog,object\n", "line 2: column 'iou'"),
    (",name,unit,iou,label,category\n0,A(R),0,0.1,dog,object\n1,A(R),0,0.2,cat,object\n",
     "appears twice"),
    (",name,unit,iou,label,category\n0,A(R),0.5,0.1,dog,object\n", "column 'unit': expected int32"),
])
def test_bad_profile_files_name_the_problem(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(LCEError, match=fragment) as info:
        read_profiles(path, "mustapha")
    assert str(path) in str(info.value)


def test_formats_without_model_names_need_them(tmp_path):
    path = tmp_path / "tally.csv"
    path.write_text("unit,category,label,score\n1,object,dog,0.1\n")
    with pytest.raises(LCEError, match="do not name their model"):
        read_profiles(path, "netdissect")
    with pytest.raises(LCEError, match="unknown profile format"):
        read_profiles(path, "excel", model="m", layer="l")


def test_real_seed_paper_profiles(shared_data):
    profiles = read_profiles(shared_data / "mustapha2022/models_dissect_profiles_raw.csv",
                             "mustapha")
    units = profiles.units
    assert units["model"].nunique() == 20 and len(units) == 20 * 2048
    assert profiles.display_names["resnet50-swav"] == "SwAV"
    assert set(units["layer"]) == {"layer4"}
    assert set(units["category"]) - {NO_LABEL} <= {"object", "part", "material", "color"}


@pytest.mark.parametrize("name", ["resnet18_places365_layer4.csv",
                                  "resnet50_imagenet_layer4.csv"])
def test_real_netdissect_lite_tallies(shared_data, name):
    profiles = read_profiles(shared_data / "netdissect-lite-results" / name, "netdissect",
                             model=name.rsplit("_", 1)[0], layer="layer4")
    units = profiles.units
    assert units["unit"].min() == 0 and units["unit"].is_unique
    assert len(units) in (512, 2048)
    assert set(UNIT_PROFILE.categories(units.columns)) >= {"object", "scene", "texture"}
