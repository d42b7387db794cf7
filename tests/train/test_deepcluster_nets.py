"""The three networks DeepCluster is studied with: the interface the trainer relies on (with and
without Sobel input) and a short training run of the small ResNet."""

from dataclasses import replace

import pytest
import torch

from lce.params import DeepClusterRun
from lce.train.datasets import load_training_data
from lce.train.nets import Sobel
from lce.train.trainer import build_net, new_head, train
from lce.zoo.architectures import build_architecture

ARCHS = {"lenet": {"in_channels": 1},
         "small_alexnet": {"in_channels": 3, "width": 8},
         "small_resnet": {"in_channels": 3, "width": 8}}


@pytest.mark.parametrize("sobel", [False, True])
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_forward_embed_trunk_and_head(arch, sobel):
    torch.manual_seed(0)
    kwargs = ARCHS[arch]
    model = build_architecture(arch, sobel=sobel, batch_norm=True, **kwargs).eval()
    x = torch.randn(4, kwargs["in_channels"], 32, 32)
    with torch.no_grad():
        assert model.embed(x).shape == (4, model.feature_dim)
        assert model.trunk(x).ndim == 2
        assert model(x).shape == (4, model.feature_dim)  # no head: the embedding
        model.top_layer = new_head(model.feature_dim, 7)
        assert model(x).shape == (4, 7)
    first_conv = next(m for m in model.features.modules() if isinstance(m, torch.nn.Conv2d))
    assert isinstance(model.sobel, Sobel) is sobel
    assert first_conv.in_channels == (2 if sobel else kwargs["in_channels"])


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_sobel_input_sees_edges_of_the_grey_image_only(arch):
    torch.manual_seed(0)
    kwargs = ARCHS[arch]
    model = build_architecture(arch, sobel=True, batch_norm=False, **kwargs).eval()
    channels = kwargs["in_channels"]
    x = torch.rand(2, channels, 32, 32)
    # the same grey image in other colours: per-channel offsets that sum to zero
    shift = torch.linspace(-0.1, 0.1, channels).view(1, -1, 1, 1) if channels > 1 else 0
    with torch.no_grad():
        torch.testing.assert_close(model.embed(x + shift), model.embed(x))
        edges = model.sobel(torch.full((1, channels, 8, 8), 0.7))
    assert edges.shape == (1, 2, 8, 8)
    assert float(edges[..., 1:-1, 1:-1].abs().max()) < 1e-6  # a flat image has no edges


def test_small_resnet_trains_a_short_deepcluster_run():
    run = DeepClusterRun(key="resnet", dataset="synthetic", n_images=48, arch="small_resnet",
                         width=8, batch_norm=True, k=4, cycles=2, pca_dims=8, labelled=10,
                         batch_size=16)
    data = load_training_data(run)
    before = {k: v.clone() for k, v in build_net(run, data.channels).state_dict().items()}
    result = train(run, data)
    assert [rec.cycle for rec in result.cycles] == [0, 1]
    assert all(torch.isfinite(torch.tensor(rec.metrics["loss"])) for rec in result.cycles)
    after = result.model.state_dict()
    assert not torch.equal(after["features.conv0.weight"], before["features.conv0.weight"])
    sobel = train(replace(run, sobel=True, cycles=1), data)
    assert sobel.model.sobel is not None and len(sobel.cycles) == 1
