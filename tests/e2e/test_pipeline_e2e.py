"""`dvc repro` end to end on a minimal configuration, in a temporary copy of the repository."""

import pytest

from tests.support.cli import run_lce
from tests.support.project import TINY_PARAMS, copy_project, dvc


@pytest.mark.slow
def test_dvc_repro_builds_the_warehouse_and_second_run_does_nothing(tmp_path):
    project = copy_project(tmp_path / "project", TINY_PARAMS)
    first = dvc("repro", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    for stage in ("probe@synthetic", "probe-cache@synthetic", "fetch@mobilenetv2-imagenet",
                  "fetch@mobilenetv2-random", "dissect@mobilenetv2-imagenet-synthetic",
                  "dissect@mobilenetv2-random-synthetic",
                  "bench@mobilenetv2-imagenet", "bench@mobilenetv2-random", "train@mnist-random",
                  "study", "analyze", "warehouse", "report"):
        assert f"Running stage '{stage}'" in first.stdout
    assert (project / "warehouse/lce.duckdb").is_file()
    assert "data:image/png;base64," in (project / "data/report/index.html").read_text()
    assert (project / "data/dissect/mobilenetv2-random/synthetic/units.parquet").is_file()

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
    params = {**TINY_PARAMS, "probes": {"synthetic": {**TINY_PARAMS["probes"]["synthetic"],
                                                      "n_images": "lots"}}}
    project = copy_project(tmp_path / "project", params)
    result = dvc("repro", "probe@synthetic", cwd=project, check=False)
    assert result.returncode != 0
    assert "Error: params.yaml: probes.synthetic.n_images: expected int, got 'lots'" \
        in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "data/probe").exists()
