"""Benchmark tables: the seed paper's wide CSV and the tidy long CSV."""

import pytest

from lce.errors import LCEError
from lce.warehouse.importers import read_benchmarks
from tests.lce_fixtures import write_tidy_benchmarks


def test_real_published_table(shared_data):
    rows = read_benchmarks(shared_data / "mustapha2022/models_performance_on_tasks.csv")
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
