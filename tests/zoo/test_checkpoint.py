"""The normalized checkpoint format (model.pt + spec.json) and the offline MobileNetV2."""

import json
from dataclasses import asdict

import pytest
import torch

from lce.errors import LCEError
from lce.zoo.checkpoint import load_checkpoint, save_checkpoint
from lce.zoo.loading import build_model, materialize
from lce.zoo.registry import get_spec


def test_random_model_materializes_deterministically_and_loads_back(tmp_path):
    spec_a = materialize(get_spec("mobilenetv2-random"), tmp_path / "a", seed=3)
    spec_b = materialize(get_spec("mobilenetv2-random"), tmp_path / "b", seed=3)
    spec_c = materialize(get_spec("mobilenetv2-random"), tmp_path / "c", seed=4)
    assert (tmp_path / "a/model.pt").read_bytes() == (tmp_path / "b/model.pt").read_bytes()
    assert spec_a.sha256 == spec_b.sha256 != spec_c.sha256
    model, spec = load_checkpoint(tmp_path / "a")
    assert spec.source == "random(seed=3)"
    saved = torch.load(tmp_path / "a/model.pt", weights_only=True)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, saved[name])


def test_offline_imagenet_mobilenet_is_verified_by_sha256(tmp_path):
    spec = materialize(get_spec("mobilenetv2-imagenet"), tmp_path / "m")
    assert spec.arch == "mobilenet_v2" and spec.method == "supervised"
    model, _ = load_checkpoint(tmp_path / "m")
    assert model.classifier[1].out_features == 1000


def test_tampered_weights_fail_the_sha256_check(tmp_path):
    materialize(get_spec("mobilenetv2-random"), tmp_path / "m")
    with (tmp_path / "m/model.pt").open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(LCEError, match="does not match spec.json"):
        load_checkpoint(tmp_path / "m")


def test_weights_of_another_architecture_are_rejected(tmp_path):
    materialize(get_spec("mobilenetv2-random"), tmp_path / "m")
    spec_path = tmp_path / "m/spec.json"
    spec = json.loads(spec_path.read_text())
    spec["arch"] = "resnet18"
    spec_path.write_text(json.dumps(spec))
    with pytest.raises(LCEError, match="does not fit resnet18: unexpected keys .*; missing keys "):
        load_checkpoint(tmp_path / "m")


def test_tensors_of_the_wrong_shape_are_named(tmp_path):
    written = materialize(get_spec("mobilenetv2-random"), tmp_path / "m")
    state = torch.load(tmp_path / "m/model.pt", weights_only=True)
    state["classifier.1.weight"] = torch.zeros(10, 1280)
    save_checkpoint(tmp_path / "m", state, {k: v for k, v in asdict(written).items()
                                            if k != "sha256"})
    with pytest.raises(LCEError, match=r"model.pt: does not fit mobilenet_v2: tensors of the "
                                       r"wrong shape: classifier\.1\.weight \(10, 1280\) vs"):
        load_checkpoint(tmp_path / "m")


def test_missing_checkpoint_and_unknown_names(tmp_path):
    with pytest.raises(LCEError, match="spec.json: file not found"):
        load_checkpoint(tmp_path / "nothing")
    with pytest.raises(LCEError, match="unknown model key 'nope'"):
        get_spec("nope")


def test_offline_mobilenet_predicts_real_photos():
    """The real ImageNet MobileNetV2: scikit-image's cat and coffee photos get their classes."""
    import skimage.data
    from PIL import Image
    from torchvision.models import MobileNet_V2_Weights

    weights = MobileNet_V2_Weights.IMAGENET1K_V1
    model = build_model(get_spec("mobilenetv2-imagenet"))
    preprocess = weights.transforms()
    batch = torch.stack([preprocess(Image.fromarray(skimage.data.chelsea())),
                         preprocess(Image.fromarray(skimage.data.coffee()))])
    with torch.no_grad():
        predicted = model(batch).argmax(1).tolist()
    assert [weights.meta["categories"][i] for i in predicted] == ["Egyptian cat", "espresso"]
