"""`dvc repro` end to end on a minimal configuration, in a temporary copy of the repository."""

import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO, cli_env, run_lce

TINY_PARAMS = {
    "probe": {"name": "synthetic", "n_images": 8, "image_size": 64, "seed": 1, "max_objects": 2,
              "train_images": 8, "train_image_size": 32},
    "fetch": {"mobilenetv2-imagenet": {}, "mobilenetv2-random": {"seed": 0}},
    "models": {
        key: {"weights": f"data/models/{key}", "layers": ["features.14"]}
        for key in ("mobilenetv2-imagenet", "mobilenetv2-random")
    },
    "dissect": {"quantile": 0.005, "denominator": "netdissect", "iou_cutoff": 0.04,
                "batch_size": 8, "device": "cpu"},
    "imports": {"profiles": [], "benchmarks": []},
    "analysis": {"models": [], "k": 0, "method": "kmeans", "seed": 0},
    "report": {"exemplar_units": 2, "exemplar_images": 3, "landscapes": 2},
    "bench": {"device": "cpu", "input_size": 32, "max_images": 300,
              "linear_datasets": ["digits"], "fewshot_datasets": ["digits"], "shots": [1],
              "queries": 5, "label_size": 16, "pixels_per_image": 16},
    # the study needs at least one run (its dep data/train must exist): one untrained anchor
    "deepcluster": {"defaults": {"n_images": 200, "labelled": 20},
                    "runs": {"mnist-random": {"method": "random"}}, "study": {"ks": [5]}},
}


def project_files() -> list[str]:
    """The files a clone of the repository would have (tracked or not ignored)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if (REPO / line).is_file()]


def copy_project(dest, params: dict):
    for rel in project_files():
        if rel == "dvc.lock":
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def dvc(*args, cwd):
    return subprocess.run(["dvc", *args], cwd=cwd, capture_output=True, text=True,
                          env=cli_env(), timeout=600)


@pytest.mark.slow
def test_dvc_repro_builds_the_warehouse_and_second_run_does_nothing(tmp_path):
    project = copy_project(tmp_path / "project", TINY_PARAMS)
    first = dvc("repro", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    for stage in ("probe", "fetch@mobilenetv2-imagenet", "fetch@mobilenetv2-random",
                  "dissect@mobilenetv2-imagenet", "dissect@mobilenetv2-random",
                  "bench@mobilenetv2-imagenet", "bench@mobilenetv2-random", "train@mnist-random",
                  "study", "analyze", "warehouse", "report"):
        assert f"Running stage '{stage}'" in first.stdout
    assert (project / "warehouse/lce.duckdb").is_file()
    assert "data:image/png;base64," in (project / "data/report/index.html").read_text()
    assert (project / "data/dissect/mobilenetv2-random/units.parquet").is_file()

    result = run_lce("query", "select model, count(*) as n from units group by model "
                     "order by model", "-f", "csv", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["model,n", "mobilenetv2-imagenet,160",
                                          "mobilenetv2-random,160"]
    result = run_lce("query", "select model, string_agg(distinct task, ' ' order by task) as tasks "
                     "from benchmarks where source = 'measured' group by model order by model",
                     "-f", "csv", cwd=project)
    tasks = "dense few-shot localization many-shot"
    assert result.stdout.splitlines()[1:] == [f"mobilenetv2-imagenet,{tasks}",
                                              f"mobilenetv2-random,{tasks}"]

    second = dvc("repro", cwd=project)
    assert second.returncode == 0, second.stderr
    assert "Running stage" not in second.stdout
    assert "Data and pipelines are up to date." in second.stdout


@pytest.mark.slow
def test_bad_params_fail_the_stage_with_one_error_line(tmp_path):
    params = {**TINY_PARAMS, "probe": {**TINY_PARAMS["probe"], "n_images": "lots"}}
    project = copy_project(tmp_path / "project", params)
    result = dvc("repro", "probe", cwd=project)
    assert result.returncode != 0
    assert "Error: params.yaml: probe.n_images: expected int, got 'lots'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "data/probe").exists()
