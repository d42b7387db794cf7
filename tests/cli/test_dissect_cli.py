"""``lce dissect`` writes exactly the artifact of the ``dissect@<model>-<probe>`` stage (its own
code, lce.dissect.artifact), and bad settings are one error line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from lce.probe.cache import build_cache
from tests.support.cli import REPO, assert_one_error_line, cli_env, run_lce

LAYER = "features.3"


@pytest.fixture(scope="module")
def project(tiny_probe, tmp_path_factory):
    """A directory laid out like the repository: the tiny probe set as probe set `synthetic`
    with its cache, and a random MobileNetV2 checkpoint."""
    from lce.zoo.loading import materialize
    from lce.zoo.registry import get_spec

    root = tmp_path_factory.mktemp("dissect-cli")
    shutil.copytree(tiny_probe, root / "data/probe/synthetic")
    build_cache(root / "data/probe/synthetic", root / "data/probe-cache/synthetic")
    materialize(get_spec("mobilenetv2-random"), root / "data/models/random", seed=0)
    params = {"probes": {"synthetic": {"kind": "synthetic"}}, "dissect_on": ["synthetic"],
              "models": {"random": {"weights": "data/models/random", "layers": [LAYER]}},
              "dissect": {"batch_size": 6, "device": "cpu"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


@pytest.mark.slow
def test_lce_dissect_gives_the_bytes_of_the_stage(project):
    stage = subprocess.run([sys.executable, str(REPO / "stages/dissect.py"), "random",
                            "synthetic"], cwd=project, capture_output=True, text=True,
                           env=cli_env(), timeout=600)
    assert stage.returncode == 0, stage.stderr
    result = run_lce("dissect", "data/models/random", "--layer", LAYER,
                     "--probe", "data/probe/synthetic", "--cache", "data/probe-cache/synthetic",
                     "--batch-size", "6", "--device", "cpu", "--out", "X", cwd=project)
    assert result.returncode == 0, result.stderr
    ours, theirs = project / "X", project / "data/dissect/random/synthetic"
    for name in ("units.parquet", "exemplars.parquet", "concepts.parquet"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert json.loads((ours / "meta.json").read_text()) == json.loads(
        (theirs / "meta.json").read_text())
    assert "time: forward" in result.stderr and "tally" in result.stderr


def test_a_bad_setting_is_one_error_line(project):
    result = run_lce("dissect", "data/models/random", "--layer", LAYER, "--probe",
                     "data/probe/synthetic", "--denominator", "mean", "--out", "Y", cwd=project)
    assert_one_error_line(result, "dissect.denominator: must be 'netdissect' or 'lite'")
    result = run_lce("dissect", "data/probe", "--layer", LAYER, "--probe",
                     "data/probe/synthetic", "--out", "Y", cwd=project)
    assert_one_error_line(result, "data/probe: no spec.json")
    result = run_lce("dissect", "data/models/random", "--layer", LAYER, "--probe",
                     "data/probe/synthetic", "--category", "objects", "--out", "Y", cwd=project)
    assert_one_error_line(result, "no category column 'objects'")
    assert not (project / "Y").exists()
