"""Benchmark tables: the seed paper's wide CSV and the tidy long CSV."""

import pandas as pd
import pytest

from lce.errors import LCEError
from lce.warehouse.importers import read_benchmarks
from lce.warehouse.names import display_name
from lce.zoo.registry import REGISTRY, key_for_name
from tests.support.warehouse import write_tidy_benchmarks

# The published table's layout in small: pandas-merge index columns between the groups, "forzen"
# as the paper's file spells it, "dt_Avg." with its dot.
WIDE_TABLE = """\
,Unnamed: 0_x_x,model,dt_ImageNet,dt_Aircraft,dt_Avg.,Unnamed: 0_y_x,voc_forzen_ap_50,\
voc_tuned_ap,Unnamed: 0_x_y,ISIC_5_shot,EuroSAT_20_shot,Unnamed: 0_y_y,sne_Mean,sne_Median,sne_11.25
0,0,InsDis(R),59.5,36.88,62.43,1,77.92,48.72,0,43.9,86.52,0,32.99,27.35,23.58
1,1,SwAV(R),75.3,50.3,70.1,2,82.4,56.2,1,47.1,91.8,1,26.3,18.8,34.5
2,2,MyNet(R),10.0,5.0,7.5,3,20.0,10.0,2,20.0,30.0,2,50.0,45.0,5.0
"""


def test_wide_table_fixture(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(WIDE_TABLE)
    rows = read_benchmarks(path, "mustapha")
    assert len(rows) == 3 * 10  # 3 many-shot, 2 VOC, 2 few-shot, 3 surface-normal columns
    assert list(rows["model"].unique()) == ["resnet50-insdis", "resnet50-swav", "resnet50-mynet"]
    directions = rows.groupby(["task", "dataset", "metric"])["higher_is_better"].agg(set)
    assert directions.to_dict() == {
        ("many-shot", "ImageNet", "top1-accuracy"): {True},
        ("many-shot", "Aircraft", "mean-per-class-accuracy"): {True},
        ("many-shot", "Avg", "mean-accuracy"): {True},
        ("detection-frozen", "VOC", "AP50"): {True},
        ("detection-finetuned", "VOC", "AP"): {True},
        ("few-shot", "ISIC", "5-shot-accuracy"): {True},
        ("few-shot", "EuroSAT", "20-shot-accuracy"): {True},
        ("surface-normals", "NYUv2", "mean-angular-error"): {False},  # angular errors
        ("surface-normals", "NYUv2", "median-angular-error"): {False},
        ("surface-normals", "NYUv2", "within-11.25-deg"): {True},
    }
    swav = rows[rows["model"] == "resnet50-swav"].set_index(["task", "dataset", "metric"])
    assert swav.loc[("surface-normals", "NYUv2", "median-angular-error"), "value"] == 18.8
    assert swav.loc[("few-shot", "EuroSAT", "20-shot-accuracy"), "value"] == 91.8


def test_real_published_table(shared_data):
    path = shared_data / "mustapha2022/models_performance_on_tasks.csv"
    names = pd.read_csv(path)["model"]
    unmapped = [n for n in names if key_for_name(display_name(n)) not in REGISTRY]
    assert not unmapped  # every model is a registered zoo key, not a slug
    rows = read_benchmarks(path)
    assert rows["model"].nunique() == 14
    assert set(rows["source"]) == {"published"}
    assert "resnet50-deepclusterv2" in set(rows["model"])
    byol = rows[rows["model"] == "resnet50-byol"].set_index(["task", "dataset", "metric"])
    assert byol.loc[("many-shot", "ImageNet", "top1-accuracy"), "value"] > 0
    assert set(rows["task"]) == {"many-shot", "detection-frozen", "detection-finetuned",
                                 "few-shot", "surface-normals"}
    sne = rows[rows["task"] == "surface-normals"].drop_duplicates("metric")
    directions = dict(zip(sne["metric"], sne["higher_is_better"], strict=True))
    assert directions["mean-angular-error"] is False or not directions["mean-angular-error"]
    assert not directions["median-angular-error"] and directions["within-11.25-deg"]
    assert rows[rows["task"] == "few-shot"]["metric"].str.endswith("-shot-accuracy").all()
    # 13 many-shot columns (12 datasets + the average), 6 VOC, 12 few-shot, 5 surface normals
    assert len(rows) == 14 * (13 + 6 + 12 + 5)


def test_tidy_table(tmp_path):
    rows = read_benchmarks(write_tidy_benchmarks(tmp_path / "t.csv"), "tidy")
    assert set(rows["model"]) >= {"resnet50-animalnet1", "resnet50-vehiclenet3"}
    assert not rows[rows["metric"] == "mean-angular-error"]["higher_is_better"].any()


@pytest.mark.parametrize(("content", "fragment"), [
    ("model,task,dataset,metric,value\nA,t,d,m,1\n", "missing column 'higher_is_better'"),
    ("model,task,dataset,metric,value,higher_is_better\nA,t,d,m,1,maybe\n",
     "line 2: higher_is_better must be true or false"),
    ("model,task,dataset,metric,value,higher_is_better\nA,t,d,m,x,true\n",
     "line 2: column 'value'"),
    ("model,task,dataset,metric,value,higher_is_better\nA,t,d,m,1,true\nA,t,d,m,2,true\n",
     "appears twice"),
])
def test_bad_tidy_tables(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(LCEError, match=fragment):
        read_benchmarks(path, "tidy")


def test_wide_table_without_benchmark_columns(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("model,foo\nA,1\n")
    with pytest.raises(LCEError, match="no benchmark columns"):
        read_benchmarks(path, "mustapha")
