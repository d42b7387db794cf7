"""`dvc repro fetch@<key>` end to end: a published-layout ResNet-50 file given as a local source
becomes a normalized checkpoint; a model that needs a conversion fails with one error line."""

import subprocess
import sys

import pytest
import torch

from lce.zoo.architectures import build_architecture
from lce.zoo.checkpoint import load_checkpoint
from tests.support.cli import cli_env
from tests.support.project import TINY_PARAMS, copy_project, dvc


@pytest.mark.slow
def test_fetch_stage_normalizes_a_local_moco_checkpoint(tmp_path):
    torch.manual_seed(5)
    original = build_architecture("resnet50").state_dict()
    encoder = {f"module.encoder_q.{k}": v for k, v in original.items() if not k.startswith("fc.")}
    momentum = {k.replace("encoder_q", "encoder_k"): v for k, v in encoder.items()}
    source = tmp_path / "moco_v2_800ep_pretrain.pth.tar"
    torch.save({"epoch": 800, "arch": "resnet50", "state_dict": encoder | momentum |
                {"module.queue": torch.randn(128, 4096)}}, source)
    params = {**TINY_PARAMS, "fetch": {"mocov2": {"zoo": "resnet50-mocov2",
                                                  "source": str(source)},
                                       "byol": {"zoo": "resnet50-byol"}},
              # the params stage checks that each model's checkpoint is one a stage writes
              "models": {"mocov2": {"weights": "data/models/mocov2", "layers": ["layer4"]}}}
    project = copy_project(tmp_path / "project", params)

    result = dvc("repro", "fetch@mocov2", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    model, spec = load_checkpoint(project / "data/models/mocov2")
    assert spec.key == "resnet50-mocov2" and spec.source == str(source)
    assert spec.missing_keys == ("fc.weight", "fc.bias") and spec.layers == ("layer3", "layer4")
    assert torch.equal(model.state_dict()["layer3.5.bn3.running_var"],
                       original["layer3.5.bn3.running_var"])

    failed = subprocess.run([sys.executable, "stages/fetch.py", "byol"], cwd=project,
                            capture_output=True, text=True, env=cli_env())
    assert failed.returncode == 1
    assert failed.stderr.startswith("Error: model resnet50-byol: ")
    assert "needs the Haiku pickle converted" in failed.stderr
    assert not (project / "data/models/byol").exists()
