"""The streaming engine against the in-memory reference on real networks and a real probe set:
identical thresholds, counts and labels, for nested convolutional layers and ViT token layers."""

import numpy as np
import pytest
import torch
import torchvision

from lce.dissect.capture import LayerCapture, as_maps, image_batches, to_input
from lce.dissect.concepts import ConceptIndex
from lce.dissect.labels import label_units
from lce.dissect.reference import reference_tally, unit_thresholds
from lce.dissect.run import dissect_model
from lce.errors import LCEError
from lce.io import write_parquet
from lce.params import DissectParams
from lce.probe.broden import BrodenProbe
from tests.support.dissect import MemoryProbe, PlantedMaps, hand_probe

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def reference_activations(model, probe, layer) -> np.ndarray:
    """All of a layer's maps over the probe set, held in memory (the reference's way)."""
    chunks = []
    with LayerCapture(model.eval(), [layer]) as capture, torch.no_grad():
        for _, images in image_batches(probe, 5):
            model(to_input(images, MEAN, STD, "cpu"))
            chunks.append(as_maps(layer, capture.outputs[layer]).numpy().copy())
    return np.concatenate(chunks)


def assert_matches_reference(model, probe, layer, result, config):
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    acts = reference_activations(model, probe, layer)
    thresholds = unit_thresholds(acts, config.quantile)
    np.testing.assert_array_equal(result.profile["threshold"].to_numpy(), thresholds)
    counts = reference_tally(acts, thresholds, probe, index)
    inter, union = counts.counts(config.denominator)
    table = result.concept_iou
    column = {names[int(n)]: j for j, n in enumerate(index.numbers)}
    cols = table["concept"].map(column).to_numpy()
    assert len(table) == int((inter > 0).sum()) > 0
    np.testing.assert_array_equal(table["intersect"], inter[table["unit"], cols])
    np.testing.assert_array_equal(table["union"], union[table["unit"], cols])
    expected = label_units(counts.iou(config.denominator), index, names)
    for col in expected.columns:
        assert result.profile[col].equals(expected[col]), col


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=10).eval()


@pytest.mark.parametrize("denominator", ["netdissect", "lite"])
def test_streaming_engine_equals_in_memory_reference(tiny_probe, resnet, denominator):
    probe = BrodenProbe(tiny_probe)
    layers = ["layer2.1.conv2", "layer3"]  # a nested module and a stage, in one pass
    config = DissectParams(quantile=0.01, denominator=denominator, batch_size=5)
    result = dissect_model(resnet, probe, layers, MEAN, STD, config)
    for layer in layers:
        assert_matches_reference(resnet, probe, layer, result.layers[layer], config)


def test_results_do_not_depend_on_batch_size(tiny_probe, resnet, tmp_path):
    probe = BrodenProbe(tiny_probe)
    outputs = []
    for batch_size in (3, 12):
        result = dissect_model(resnet, probe, ["layer3"], MEAN, STD,
                               DissectParams(batch_size=batch_size)).layers["layer3"]
        for name in ("profile", "concept_iou", "exemplars"):
            path = write_parquet(getattr(result, name), tmp_path / f"{name}-{batch_size}.pq")
            outputs.append((name, path.read_bytes()))
    assert outputs[:3] == outputs[3:]  # byte-identical Parquet


def test_captured_outputs_are_not_overwritten_by_inplace_relu(tiny_probe):
    """torchvision's ResNet applies ``ReLU(inplace=True)`` to ``bn1``'s output: the capture must
    hold the batch norm's own values, checked against conv -> bn computed apart from the model."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        bn1 = model.bn1(model.conv1(x))
        block_in = model.maxpool(torch.relu(bn1))
        block_bn1 = model.layer1[0].bn1(model.layer1[0].conv1(block_in))
        with LayerCapture(model, ["bn1", "layer1.0.bn1"]) as capture:
            model(x)
    for name, expected in (("bn1", bn1), ("layer1.0.bn1", block_bn1)):
        assert (expected < 0).any()
        torch.testing.assert_close(capture.outputs[name], expected, rtol=0, atol=0)
    # and the engine thresholds those values: bn1's 10% quantiles, negative ones included
    probe = BrodenProbe(tiny_probe, limit=4)
    result = dissect_model(model, probe, ["bn1"], MEAN, STD,
                           DissectParams(quantile=0.9, null_baseline=False)).layers["bn1"]
    with torch.no_grad():
        direct = torch.cat([model.bn1(model.conv1(to_input(images, MEAN, STD, "cpu")))
                            for _, images in image_batches(probe, 5)])
    expected = np.quantile(direct.transpose(0, 1).flatten(1).numpy(), 0.1, axis=1)
    np.testing.assert_array_equal(result.profile["threshold"].to_numpy(), expected)
    assert (expected < 0).any()  # impossible after a ReLU


def test_mixed_image_sizes_name_the_image():
    class MixedSizes(MemoryProbe):
        def image(self, i):
            return np.full((8 + 2 * (i == 2), 8, 3), i, dtype=np.uint8)

    probe = hand_probe()
    probe = MixedSizes(probe.segs * 2)
    model = PlantedMaps(np.zeros((4, 1, 4, 4), np.float32))
    with pytest.raises(LCEError, match=r"probe image img/2\.png: shape \(10, 8, 3\), expected "
                                       r"\(8, 8, 3\)"):
        dissect_model(model, probe, ["block.layer"], model.MEAN, model.STD,
                      DissectParams(batch_size=3))


def test_vit_token_layers_are_dissected_on_the_patch_grid(tiny_probe):
    torch.manual_seed(0)
    vit = torchvision.models.VisionTransformer(image_size=64, patch_size=16, num_layers=2,
                                               num_heads=2, hidden_dim=32, mlp_dim=64).eval()
    probe = BrodenProbe(tiny_probe)
    layer = "encoder.layers.encoder_layer_1"
    config = DissectParams(quantile=0.02, batch_size=5)
    result = dissect_model(vit, probe, [layer], MEAN, STD, config).layers[layer]
    assert len(result.profile) == 32  # hidden_dim units on a 4x4 patch grid
    assert_matches_reference(vit, probe, layer, result, config)


def test_token_maps_drop_class_and_register_tokens():
    tokens = torch.arange(2 * 41 * 3, dtype=torch.float32).view(2, 41, 3)  # 1 + 4 extra, 6x6
    maps = as_maps("blocks.0", tokens)
    assert maps.shape == (2, 3, 6, 6)
    assert torch.equal(maps[1, 2].flatten(), tokens[1, 5:, 2])
    with pytest.raises(LCEError, match="blocks.0"):
        as_maps("blocks.0", torch.zeros(2, 30, 3))


def test_bad_layers_and_activations_are_clear_errors():
    probe = hand_probe()
    model = PlantedMaps(np.zeros((2, 1, 4, 4), np.float32))
    with pytest.raises(LCEError, match="unknown layer.*block.nope"):
        dissect_model(model, probe, ["block.nope"], model.MEAN, model.STD, DissectParams())
    bad = np.zeros((2, 1, 4, 4), np.float32)
    bad[1, 0, 0, 0] = np.nan
    with pytest.raises(LCEError, match="non-finite activations"):
        dissect_model(PlantedMaps(bad), probe, ["block.layer"], model.MEAN, model.STD,
                      DissectParams())


@pytest.mark.parametrize("entry,message", [
    ({"method": "lda"}, "dissect.method"), ({"exemplars": -1}, "dissect.exemplars"),
    ({"scratch": "/no/such/dir"}, "dissect.scratch"), ({"null_seed": "x"}, "dissect.null_seed"),
    ({"quantile": 2}, "dissect.quantile"), ({"method": "lda", "quantile": None}, "dissect.method"),
])
def test_bad_dissect_params_name_the_key(entry, message):
    from lce.params import dissect_params
    from lce.validation import check_dissect

    with pytest.raises(LCEError, match=message):
        check_dissect(dissect_params({"dissect": entry}))
