"""The probe stages under real DVC: outputs, byte-identical regeneration, one-line errors."""

import copy

import pytest
import yaml

from lce.probe import open_probe
from tests.support.project import TINY_PARAMS, copy_project, dvc

PARAMS = copy.deepcopy(TINY_PARAMS)
PARAMS["probes"]["synthetic"].update({"n_images": 6})
STAGES = ("probe@synthetic", "probe-cache@synthetic")


def out_hashes(project) -> dict[str, str]:
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    return {stage: lock[stage]["outs"][0]["md5"] for stage in STAGES}


@pytest.mark.slow
def test_probe_stages_build_and_rebuild_byte_identically(tmp_path):
    project = copy_project(tmp_path / "project", PARAMS)
    first = dvc("repro", *STAGES, cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    probe = open_probe(project / "data/probe/synthetic", project / "data/probe-cache/synthetic")
    assert len(probe) == 6 and len(probe.concept_totals) == len(probe.concepts)
    hashes = out_hashes(project)

    forced = dvc("repro", "--force", *STAGES, cwd=project)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert out_hashes(project) == hashes  # same params -> byte-identical artifacts

    unchanged = dvc("repro", *STAGES, cwd=project)
    assert "Running stage" not in unchanged.stdout


@pytest.mark.slow
def test_bad_probe_params_fail_with_one_line(tmp_path):
    params = copy.deepcopy(PARAMS)
    params["probes"]["synthetic"]["objects"] = ["unicorn"]
    project = copy_project(tmp_path / "project", params)
    result = dvc("repro", "probe@synthetic", cwd=project, check=False)
    assert result.returncode != 0
    assert ("Error: probe set synthetic: params.yaml: probes.synthetic.objects: unknown name "
            "'unicorn'") in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
