"""`dvc repro` of a tiny DeepCluster grid in a temporary copy of the repository: training runs,
the dissection of a trained network, the study report, and a second repro that does nothing."""

import json

import pandas as pd
import pytest

from tests.support.project import TINY_PARAMS, copy_project, dvc

SYNTH = {"dataset": "synthetic", "n_images": 60, "image_size": 32, "arch": "small_alexnet",
         "width": 8, "batch_norm": True, "cycles": 2, "pca_dims": 8, "labelled": 20,
         "batch_size": 16}
PARAMS = {
    **TINY_PARAMS,
    "models": {"syn-k4": {"weights": "data/train/syn-k4/model", "layers": ["features.relu5"]}},
    "deepcluster": {
        "defaults": SYNTH,
        "runs": {"syn-k4": {"k": 4}, "syn-k4-s1": {"k": 4, "seed": 1},
                 "syn-k8": {"k": 8}, "syn-k4-halt": {"k": 4, "halt_clustering": 1}},
        "study": {"ks": [4, 8], "early_cycle": 1},
    },
}


@pytest.mark.slow
def test_train_dissect_and_study_through_dvc(tmp_path):
    project = copy_project(tmp_path / "project", PARAMS)
    first = dvc("repro", "study", "dissect@syn-k4-synthetic", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    for stage in ("train@syn-k4", "train@syn-k4-halt", "dissect@syn-k4-synthetic", "study"):
        assert f"Running stage '{stage}'" in first.stdout
    units = pd.read_parquet(project / "data/dissect/syn-k4/synthetic/units.parquet")
    assert len(units) == 16 and set(units["layer"]) == {"features.relu5"}
    quality = pd.read_parquet(project / "data/study/random_quality.parquet")
    pairs = quality[["seed", "k"]].drop_duplicates().sort_values(["seed", "k"]).values.tolist()
    assert pairs == [[0, 4], [0, 8], [1, 4], [1, 8]]
    selection = pd.read_parquet(project / "data/study/selection.parquet")
    # the halted twin (halt 1) repeats its twin's cycle-0 signal, so it is left out of that one
    assert dict(zip(selection["signal"], selection["n"], strict=True)) == {"random_nmi": 3,
                                                                          "early_nmi": 4}
    anchors = pd.read_parquet(project / "data/study/anchors.parquet")
    assert len(anchors) == 4 and set(anchors["random"]) == {""}  # this grid trains no anchor
    report = (project / "data/study/report/README.md").read_text()
    assert "## 2. Halted vs continuous clustering" in report
    assert "| syn-k4-halt | syn-k4 | synthetic/small_alexnet | 4 | 0 | 1 |" in report
    assert "(no interval at this size) over n = 1; no effect detected at this size" in report
    assert "no random network was trained on the same data and net" in report
    assert (project / "data/study/report/synthetic-small_alexnet-nmi_labels.svg").is_file()
    metrics = dvc("metrics", "show", "--json", cwd=project)
    assert metrics.returncode == 0, metrics.stderr
    assert "linear_top1" in metrics.stdout and "syn-k8/summary.json" in metrics.stdout

    second = dvc("repro", "study", "dissect@syn-k4-synthetic", cwd=project)
    assert second.returncode == 0, second.stderr
    assert "Running stage" not in second.stdout


@pytest.mark.slow
def test_bad_run_params_fail_with_one_line(tmp_path):
    params = json.loads(json.dumps(PARAMS))
    params["deepcluster"]["runs"]["syn-k4"]["k"] = "four"
    project = copy_project(tmp_path / "project", params)
    result = dvc("repro", "train@syn-k4", cwd=project, check=False)
    assert result.returncode != 0
    assert ("Error: params.yaml: deepcluster.runs.syn-k4.k: expected int, got 'four'"
            in result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "data/train/syn-k4").exists()
