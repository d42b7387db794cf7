"""The `params` stage checks all of params.yaml before any stage runs (issue 19, item 4): each
mistake of the issue is one error line naming the key, and a correct file passes."""

import copy
import subprocess

import pytest
import yaml

from lce.errors import LCEError
from lce.params import load_params
from lce.validation import validate_params
from tests.support.cli import REPO, run_stage

PARAMS = load_params(REPO / "params.yaml")


def edited(edit) -> dict:
    params = copy.deepcopy(PARAMS)
    edit(params)
    return params


def check_params(project, params: dict) -> subprocess.CompletedProcess:
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return run_stage("stages/params.py", cwd=project)


def test_the_repository_params_pass_and_the_marker_is_constant(tmp_path):
    first = check_params(tmp_path, PARAMS)
    assert first.returncode == 0, first.stderr
    marker = (tmp_path / "data/params.ok").read_bytes()
    again = check_params(tmp_path, edited(lambda p: p["probes"]["synthetic"].update(seed=5)))
    assert again.returncode == 0, again.stderr
    # the marker's bytes do not follow the params: editing one section reruns only its stages
    assert (tmp_path / "data/params.ok").read_bytes() == marker


@pytest.mark.parametrize(("edit", "message"), [
    (lambda p: p["models"]["mobilenetv2-imagenet"].update(weights="data/models/nosuch"),
     "models.mobilenetv2-imagenet.weights: data/models/nosuch is no checkpoint directory"),
    (lambda p: p["dissect"].update(quantile=1.5), "dissect.quantile: must be a number in (0, 1)"),
    (lambda p: p["fetch"].update({"../probe": {"zoo": "mobilenetv2-random"}}),
     "fetch.../probe: keys may only hold letters, digits, '-' and '_'"),
    (lambda p: p["models"].update({"mobilenetv2.v2": p["models"]["mobilenetv2-random"]}),
     "models.mobilenetv2.v2: keys must not contain dots"),
    (lambda p: p.update(dissekt={}), "dissekt: unknown section"),
    (lambda p: p["imports"].update(profiles=[{"path": "nowhere.csv", "format": "mustapha"}]),
     "imports.profiles[0].path: nowhere.csv: file not found"),
])
def test_validate_params_names_the_key(edit, message):
    with pytest.raises(LCEError) as info:
        validate_params(edited(edit))
    assert str(info.value).startswith(f"params.yaml: {message}"), str(info.value)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda p: p["models"]["mobilenetv2-random"].update(layers=["features.19"]),
     "models.mobilenetv2-random.layers[0]: no layer 'features.19' in mobilenet_v2"),
    (lambda p: p["models"]["syn-dc-k8"].update(bench_layer="features.relu9"),
     "models.syn-dc-k8.bench_layer: no layer 'features.relu9' in small_alexnet"),
    (lambda p: p["fetch"]["mobilenetv2-random"].update(zoo="mobilenetv2-randm"),
     "params.yaml: fetch.mobilenetv2-random.zoo: unknown model key 'mobilenetv2-randm'"),
    (lambda p: p["probes"]["synthetic"].update(objects=["unicorn"]),
     "probe set synthetic: params.yaml: probes.synthetic.objects: unknown name 'unicorn'"),
    (lambda p: p["imports"].update(benchmarks=[{"path": "params.yaml", "format": "excel"}]),
     "params.yaml: imports.benchmarks[0].format: must be one of mustapha, tidy"),
])
def test_the_stage_checks_layers_models_and_names(tmp_path, edit, message):
    (tmp_path / "params.yaml").write_text("")  # the imports test names this existing file
    result = check_params(tmp_path, edited(edit))
    assert result.returncode == 1
    error = result.stderr.splitlines()[0]
    assert error.startswith("Error: ") and message in error, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data/params.ok").exists()


def test_every_stage_is_downstream_of_the_params_stage(tmp_path):
    """DVC runs a stage only after its upstream stages succeeded: a stage outside the check's
    reach would again lose its outputs to a params mistake."""
    import shutil

    import networkx as nx
    from dvc.repo import Repo

    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    repo = Repo.init(str(tmp_path))
    try:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        check = next(stage for stage in graph if stage.name == "params")
        unchecked = [stage.name for stage in graph
                     if stage is not check and check not in nx.descendants(graph, stage)]
    finally:
        repo.close()
    assert len(graph) > 10 and unchecked == []
