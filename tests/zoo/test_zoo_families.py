"""Every checkpoint family: a synthetic file in the family's published layout (containers,
prefixes, extra heads, momentum encoders, pickled options) built from a randomly initialised
network loads into exactly the original tensors; wrong files fail with the offending keys."""

import argparse
from dataclasses import replace

import pytest
import torch

from lce.errors import LCEError
from lce.zoo.architectures import build_architecture
from lce.zoo.checkpoint import load_checkpoint
from lce.zoo.families import get_family
from lce.zoo.fetch import FetchOptions
from lce.zoo.loading import build_model, materialize
from lce.zoo.registry import REGISTRY, get_spec


def _prefixed(state, prefix, skip=("fc.",)):
    return {prefix + k: v.clone() for k, v in state.items() if not k.startswith(skip)}


def moco_layout(state):
    """facebookresearch/moco: query and key encoders (fc replaced by an MLP) plus the queue."""
    encoder = _prefixed(state, "module.encoder_q.")
    encoder |= {"module.encoder_q.fc.0.weight": torch.randn(512, 512),
                "module.encoder_q.fc.2.weight": torch.randn(128, 512)}
    momentum = {k.replace("encoder_q", "encoder_k"): v + 1 for k, v in encoder.items()}
    queue = {"module.queue": torch.randn(128, 4096), "module.queue_ptr": torch.zeros(1).long()}
    return {"epoch": 200, "arch": "resnet18", "state_dict": encoder | momentum | queue,
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.03}]}}


def pycontrast_layout(state):
    """PyContrast: the options as an argparse.Namespace, heads and a jigsaw branch in `model`,
    the memory bank and the momentum encoder in other containers."""
    model = _prefixed(state, "module.encoder.")
    model |= {"module.head.fc.weight": torch.randn(128, 512),
              "module.head_jig.fc.weight": torch.randn(128, 512),
              "module.jigsaw.fc.weight": torch.randn(128, 512)}
    return {"opt": argparse.Namespace(method="PIRL", epochs=200), "model": model,
            "contrast": {"memory": torch.randn(100, 128)},
            "model_ema": _prefixed(state, "module.encoder."), "epoch": 200}


def swav_layout(state):
    """facebookresearch/swav (SwAV, DeepCluster v2, SeLa v2): DataParallel keys, heads."""
    return _prefixed(state, "module.") | {
        "module.projection_head.0.weight": torch.randn(2048, 512),
        "module.projection_head.3.weight": torch.randn(128, 2048),
        "module.prototypes.weight": torch.randn(3000, 128)}


def vissl_layout(state):
    trunk = _prefixed(state, "_feature_blocks.")
    heads = {"0.clf.0.weight": torch.randn(1000, 512)}
    return {"classy_state_dict": {"base_model": {"model": {"trunk": trunk, "heads": heads}}},
            "phase_idx": 799, "iteration": 10}


def _by_position(state, model, prefix):
    position = {name: str(i) for i, (name, _) in enumerate(model.named_children())}
    return {prefix + position[k.split(".")[0]] + k[len(k.split(".")[0]):]: v.clone()
            for k, v in state.items() if not k.startswith("fc.")}


def lightly_layout(state, model):
    backbone = _by_position(state, model, "backbone.")
    heads = {"projection_head.layers.0.weight": torch.randn(128, 512),
             "backbone_momentum.0.weight": torch.randn(64, 3, 7, 7)}
    return {"state_dict": backbone | heads, "epoch": 10}


def selav1_layout(state):
    """self-label's Aug++ files (the registered resnet50-10x3k_pp.pth): a torchvision ResNet
    with a 3000-way pseudo-label head as fc under state_dict, the pseudo-labels in L."""
    weights = _prefixed(state, "") | {"fc.weight": torch.randn(3000, 512),
                                      "fc.bias": torch.randn(3000)}
    return {"state_dict": weights, "L": torch.randint(0, 3000, (10, 64))}


def selav1_old_layout(state, model):
    """self-label's older resnet-10x3k.pth: children by position, ten clustering heads."""
    heads = {f"module.top_layer{i}.weight": torch.randn(30, 512) for i in range(10)}
    return _by_position(state, model, "module.features.") | heads


# One registered model per family (the ResNet-50 case is tests/e2e/test_zoo_stage.py's MoCo file).
FAMILY_CASES = {
    "resnet50-mocov2": moco_layout,
    "resnet50-pirl": pycontrast_layout,
    "resnet50-deepclusterv2": swav_layout,
    "resnet50-pirl-vissl": vissl_layout,
    "resnet50-selav1": selav1_layout,
}


def _random_model(arch, seed=1):
    torch.manual_seed(seed)
    model = build_architecture(arch)
    with torch.no_grad():  # BatchNorm statistics are not at their defaults in a trained net
        for name, buffer in model.named_buffers():
            if "running" in name:
                buffer.uniform_(0.5, 1.5)
    return model


def _save(tmp_path, obj):
    path = tmp_path / "published.pth"
    torch.save(obj, path)
    return path


def _assert_loaded_exactly(directory, original, skip_heads=True):
    model, spec = load_checkpoint(directory)
    saved = torch.load(directory / "model.pt", weights_only=True)
    for name, tensor in original.state_dict().items():
        if skip_heads and name.startswith("fc."):
            assert name not in saved and name in spec.missing_keys
            continue
        assert torch.equal(model.state_dict()[name], tensor), name
    return model, spec


@pytest.mark.parametrize("key", sorted(FAMILY_CASES))
def test_family_layout_loads_into_the_original_tensors(key, tmp_path):
    original = _random_model("resnet18")
    layout = FAMILY_CASES[key]
    spec = replace(get_spec(key), arch="resnet18")
    written = materialize(spec, tmp_path / "m", options=FetchOptions(
        source=str(_save(tmp_path, layout(original.state_dict())))))
    assert written.missing_keys == ("fc.weight", "fc.bias")
    _assert_loaded_exactly(tmp_path / "m", original)


def test_selav1_older_layout_still_loads(tmp_path):
    original = _random_model("resnet18")
    path = _save(tmp_path, selav1_old_layout(original.state_dict(), original))
    spec = replace(get_spec("resnet50-selav1"), arch="resnet18")
    written = materialize(spec, tmp_path / "m", options=FetchOptions(source=str(path)))
    assert written.missing_keys == ("fc.weight", "fc.bias")
    _assert_loaded_exactly(tmp_path / "m", original)


def test_lightly_family(tmp_path):
    original = _random_model("resnet18")
    spec = replace(get_spec("resnet50-swav"), key="resnet18-lightly", arch="resnet18",
                   family="lightly", containers=("state_dict",), prefix="backbone.",
                   drop=("projection_head", "prediction_head", "backbone_momentum."))
    path = _save(tmp_path, lightly_layout(original.state_dict(), original))
    materialize(spec, tmp_path / "m", options=FetchOptions(source=str(path)))
    _assert_loaded_exactly(tmp_path / "m", original)


def test_supervised_torchvision_file_keeps_its_classifier(tmp_path):
    original = _random_model("resnet18")
    spec = replace(get_spec("resnet50-supervised"), arch="resnet18", sha256=None)
    path = _save(tmp_path, original.state_dict())
    written = materialize(spec, tmp_path / "m", options=FetchOptions(source=str(path)))
    assert written.missing_keys == ()
    _assert_loaded_exactly(tmp_path / "m", original, skip_heads=False)


def test_deepcluster_v1_alexnet_with_sobel_and_old_batchnorm(tmp_path):
    """DeepCluster's DataParallel infix, Sobel layers, clustering head, and a file saved before
    BatchNorm counted its steps (no num_batches_tracked)."""
    original = _random_model("alexnet_deepcluster")
    state = {k.replace("features.", "features.module.", 1) if k.startswith("features.") else k:
             v.clone() for k, v in original.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    # a clustering head of 100 clusters (the published one has 10,000): dropped all the same
    state |= {"top_layer.weight": torch.randn(100, 4096), "top_layer.bias": torch.randn(100)}
    path = _save(tmp_path, {"epoch": 500, "arch": "alexnet", "state_dict": state})
    written = materialize(get_spec("alexnet-deepcluster"), tmp_path / "m",
                          options=FetchOptions(source=str(path)))
    assert written.missing_keys == ()
    net, spec = _assert_loaded_exactly(tmp_path / "m", original, skip_heads=False)
    assert spec.layers == ("features.16",)
    assert net(torch.rand(1, 3, 224, 224)).shape == (1, 4096)
    assert torch.equal(net.sobel[1].weight, original.sobel[1].weight)


def test_vgg16_deepcluster_layout_matches_its_layers():
    net = build_architecture("vgg16_deepcluster")
    assert isinstance(net.features[40], torch.nn.Conv2d) and net.features[40].out_channels == 512
    assert isinstance(net.features[42], torch.nn.ReLU)
    assert net.features[0].in_channels == 2  # the Sobel stage feeds two gradient channels


def test_checkpoint_of_the_wrong_family_lists_the_offending_keys(tmp_path):
    original = _random_model("resnet18")
    swav_file = _save(tmp_path, swav_layout(original.state_dict()))
    as_moco = replace(get_spec("resnet50-mocov2"), arch="resnet18")
    with pytest.raises(LCEError, match=r"does not fit.*unexpected keys module\.(bn1|conv1)"):
        build_model(as_moco, options=FetchOptions(source=str(swav_file)))
    moco_file = tmp_path / "moco.pth"
    torch.save(moco_layout(original.state_dict()), moco_file)
    as_swav = replace(get_spec("resnet50-swav"), arch="resnet18")
    with pytest.raises(LCEError, match="entries that are not tensors: arch, epoch, optimizer"):
        build_model(as_swav, options=FetchOptions(source=str(moco_file)))


def test_half_loaded_weights_are_refused(tmp_path):
    """A prefix that matches only part of the keys must not leave a half-random network."""
    original = _random_model("resnet18")
    state = swav_layout(original.state_dict())
    state = {(k.replace("module.", "module.backbone.") if "layer4" in k else k): v
             for k, v in state.items()}
    path = _save(tmp_path, state)
    with pytest.raises(LCEError, match=r"unexpected keys backbone\.layer4.*missing keys layer4"):
        build_model(replace(get_spec("resnet50-swav"), arch="resnet18"),
                    options=FetchOptions(source=str(path)))


def test_wrong_architecture_names_the_shapes(tmp_path):
    path = _save(tmp_path, swav_layout(_random_model("resnet34").state_dict()))
    with pytest.raises(LCEError, match=r"unexpected keys layer1\.2\.bn1"):
        build_model(replace(get_spec("resnet50-swav"), arch="resnet18"),
                    options=FetchOptions(source=str(path)))
    path = _save(tmp_path, swav_layout(_random_model("resnet18").state_dict()))
    with pytest.raises(LCEError, match=r"wrong shape: layer1\.0\.conv1\.weight \(64, 64, 3, 3\) vs "
                                        r"\(64, 64, 1, 1\)"):
        build_model(get_spec("resnet50-swav"), options=FetchOptions(source=str(path)))


def test_deepcluster_fc_layers_are_not_an_optional_head(tmp_path):
    original = _random_model("alexnet_deepcluster")
    state = {k: v for k, v in original.state_dict().items() if not k.startswith("classifier.")}
    path = _save(tmp_path, {"state_dict": state})
    with pytest.raises(LCEError, match="missing keys classifier.1.bias"):
        build_model(get_spec("alexnet-deepcluster"), options=FetchOptions(source=str(path)))


def _plain_layout(state):
    return {"state_dict": dict(state)}


LAYOUTS = {"moco": moco_layout, "pycontrast": pycontrast_layout, "swav": swav_layout,
           "vissl": vissl_layout, "selav1": selav1_layout, "torchvision": _plain_layout}


@pytest.fixture(scope="module")
def resnet18():
    return build_architecture("resnet18")


@pytest.mark.parametrize("key", sorted(k for k, s in REGISTRY.items()
                                       if s.arch == "resnet50" and s.source != "random"))
def test_every_registered_resnet50_spec_remaps_its_family_layout(key, resnet18):
    """Each entry's own containers/prefix/drop (not just its family's defaults) yield exactly
    the torchvision keys; ResNet-18 has the same module names, and empty tensors keep it fast."""
    spec, model = get_spec(key), resnet18
    state = {k: torch.empty(0) for k in model.state_dict()}
    layout = LAYOUTS[spec.family]
    raw = layout(state)
    remapped = get_family(spec.family).remap(raw, spec, model)
    head = ("fc.",) if spec.family != "torchvision" else spec.drop
    assert set(remapped) == {k for k in state if not (head and k.startswith(head))}


@pytest.mark.slow  # two Inception-size nets built and run per case
@pytest.mark.parametrize(("key", "weights"), [("googlenet-imagenet", "GoogLeNet_Weights"),
                                              ("inception_v3-imagenet", "Inception_V3_Weights")])
def test_inception_nets_reload_as_torchvision_builds_them_with_its_weights(
        key, weights, tmp_path, monkeypatch):
    """torchvision turns transform_input on (and GoogLeNet's untrained aux heads off) only when
    it loads ImageNet weights; a materialized checkpoint must reload into that same net."""
    import torchvision

    spec = get_spec(key)
    torch.manual_seed(0)
    published = build_architecture(spec.arch, aux_logits=True, init_weights=False).state_dict()
    enum = getattr(torchvision.models, weights)
    monkeypatch.setattr(enum, "get_state_dict", lambda self, **kwargs: published)
    reference = torchvision.models.get_model(spec.arch, weights=enum.IMAGENET1K_V1).eval()
    path = _save(tmp_path, published)
    materialize(replace(spec, sha256=None), tmp_path / "m", options=FetchOptions(source=str(path)))
    model, saved = load_checkpoint(tmp_path / "m")
    assert model.transform_input and saved.arch_kwargs["transform_input"]
    assert model.aux_logits == reference.aux_logits and saved.missing_keys == ()
    assert model.state_dict().keys() == reference.state_dict().keys()
    image = torch.rand(1, 3, 112, 112)
    with torch.no_grad():
        assert torch.equal(model(image), reference(image))
