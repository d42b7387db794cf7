"""The segmenters' networks in the published key layout, and their strict, safe loading."""

from __future__ import annotations

import pytest
import torch

from lce.errors import LCEError
from lce.segment.nets import ColorSegmenterNet, UPerNetResNet50, prroi_pool, prroi_weights
from lce.segment.registry import COLOR, SEGMENTERS, UPP
from lce.segment.segmenters import load_segmenter
from tests.support.segment import write_random_netpqc

# The published unified-parsing vocabulary sizes (CSAILVision/unifiedparsing meta_file/
# joint_dataset: 336 objects and 26 materials with '-', 365 scenes, 427 part channels over the
# 77 objects with parts).
PUBLISHED = {"object": 336, "material": 26, "scene": 365, "part": 427}


def _meta(net_class, *args):
    with torch.device("meta"):
        return net_class(*args)


def test_upernet_encoder_has_the_published_keys_and_shapes():
    sd = _meta(UPerNetResNet50, PUBLISHED).encoder.state_dict()
    # deep stem 3 convs + 3 BNs (5 tensors each); 16 bottlenecks of 3 convs + 3 BNs; 4 downsamples
    assert len(sd) == 3 * 6 + 16 * 18 + 4 * 6
    shapes = {"conv1.weight": (64, 3, 3, 3), "conv2.weight": (64, 64, 3, 3),
              "conv3.weight": (128, 64, 3, 3), "bn3.running_var": (128,),
              "layer1.0.conv1.weight": (64, 128, 1, 1),
              "layer1.0.downsample.0.weight": (256, 128, 1, 1),
              "layer3.5.conv2.weight": (256, 256, 3, 3),
              "layer4.0.downsample.1.weight": (2048,), "layer4.2.conv3.weight": (2048, 512, 1, 1)}
    assert {k: tuple(sd[k].shape) for k in shapes} == shapes
    assert not any(k.startswith(("fc.", "avgpool")) for k in sd)


def test_upernet_decoder_has_the_published_keys_and_shapes():
    sd = _meta(UPerNetResNet50, PUBLISHED).decoder.state_dict()
    # ppm_conv 4x(conv+BN), ppm_last_conv, fpn_in 3x, fpn_out 3x, conv_fusion: conv+BN (6 each);
    # four heads: conv-BN-ReLU + a biased 1x1 conv (8 each)
    assert len(sd) == (4 + 1 + 3 + 3 + 1) * 6 + 4 * 8
    shapes = {"ppm_conv.3.0.weight": (512, 2048, 1, 1), "ppm_last_conv.0.weight": (512, 4096, 3, 3),
              "fpn_in.0.0.weight": (512, 256, 1, 1), "fpn_in.2.0.weight": (512, 1024, 1, 1),
              "fpn_out.1.0.0.weight": (512, 512, 3, 3), "conv_fusion.0.weight": (512, 2048, 3, 3),
              "scene_head.2.weight": (365, 512, 1, 1), "object_head.1.weight": (336, 512, 1, 1),
              "part_head.1.bias": (427,), "material_head.1.weight": (26, 512, 1, 1)}
    assert {k: tuple(sd[k].shape) for k in shapes} == shapes


def test_color_net_has_the_csail_resnet18_dilated_ppm_deepsup_layout():
    net = _meta(ColorSegmenterNet, 12)
    enc, dec = net.encoder.state_dict(), net.decoder.state_dict()
    # 8 basic blocks (2 convs + 2 BNs); 4 downsamples: the deep stem's 128 channels give
    # stage 1 (64 channels) one too
    assert len(enc) == 3 * 6 + 8 * 12 + 4 * 6
    assert tuple(enc["layer1.0.downsample.0.weight"].shape) == (64, 128, 1, 1)
    assert tuple(enc["layer4.1.conv2.weight"].shape) == (512, 512, 3, 3)
    assert tuple(dec["conv_last.0.weight"].shape) == (512, 512 + 4 * 512, 3, 3)
    assert tuple(dec["conv_last.4.weight"].shape) == (12, 512, 1, 1)
    assert tuple(dec["cbr_deepsup.0.weight"].shape) == (128, 256, 3, 3)
    assert tuple(dec["conv_last_deepsup.weight"].shape) == (12, 128, 1, 1)
    # output stride 8: the dilated stages keep the resolution of stage 2
    small = ColorSegmenterNet(3, scale=16).eval()
    assert [f.shape[-1] for f in small.encoder(torch.zeros(1, 3, 64, 64))] == [16, 8, 8, 8]


def test_prroi_pooling_integrates_the_bilinear_surface():
    # A constant map over the box [0, 4]: samples sit at 0..3 and the surface is 0 beyond them,
    # so the last bin [3, 4] holds only half of sample 3's hat.
    assert prroi_weights(4, 4).sum(1).tolist() == [1.0, 1.0, 1.0, 0.5]
    # one sample of value 1 at (1, 1): its hat covers [0, 2]^2 with integral 1; pooled to 2x2
    # (bins of area 4) the top-left bin holds it all (mean 1/4); pooled to 4x4 (area 1) each of
    # the four unit bins around it holds a quarter (mean 1/4)
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 1] = 1
    assert prroi_pool(x, 2)[0, 0].tolist() == [[0.25, 0.0], [0.0, 0.0]]
    assert prroi_pool(x, 4)[0, 0].tolist() == [[0.25, 0.25, 0.0, 0.0], [0.25, 0.25, 0.0, 0.0],
                                               [0.0] * 4, [0.0] * 4]


def test_netpqc_is_registered_with_dissects_published_files():
    spec = SEGMENTERS["netpqc"]
    assert spec.components == (UPP, COLOR)
    assert UPP.url("encoder_epoch_40.pth") == ("https://dissect.csail.mit.edu/models/segmodel/"
                                               "upp-resnet50-upernet/encoder_epoch_40.pth")
    assert COLOR.files == ("encoder_epoch_20.pth", "decoder_epoch_20.pth", "labels.json")


def test_random_segmenter_in_the_published_layout_loads_and_segments(tmp_path):
    segmenter = load_segmenter("netpqc", write_random_netpqc(tmp_path), scale=16)
    masks = segmenter.segment(torch.rand(2, 3, 224, 224) * 2 - 1)
    assert masks.shape == (2, 6, 56, 56) and masks.dtype == torch.long
    assert segmenter.channel_categories == ("object", "material", "part", "part", "part", "color")
    assert int(masks.max()) < len(segmenter.labels)


def test_a_renamed_key_fails_strict_loading_with_one_error(tmp_path):
    sources = write_random_netpqc(tmp_path)
    path = tmp_path / UPP.name / "encoder_epoch_40.pth"
    state = torch.load(path, weights_only=True)
    state["layer1.0.conv1.weights"] = state.pop("layer1.0.conv1.weight")
    torch.save(state, path)
    with pytest.raises(LCEError) as err:
        load_segmenter("netpqc", sources, scale=16)
    message = str(err.value)
    assert "\n" not in message and "does not fit the published layout" in message
    assert "unexpected keys layer1.0.conv1.weights" in message
    assert "missing keys layer1.0.conv1.weight" in message


def test_a_missing_file_and_a_pickled_object_are_clear_errors(tmp_path):
    sources = write_random_netpqc(tmp_path)
    (tmp_path / COLOR.name / "decoder_epoch_20.pth").unlink()
    with pytest.raises(LCEError, match="decoder_epoch_20.pth not found"):
        load_segmenter("netpqc", sources, scale=16)
    torch.save({"net": torch.nn.Linear(1, 1)}, tmp_path / COLOR.name / "decoder_epoch_20.pth")
    with pytest.raises(LCEError, match="safe loading does not allow"):
        load_segmenter("netpqc", sources, scale=16)


def test_unknown_segmenter_names_the_registered_ones():
    with pytest.raises(LCEError, match="unknown segmenter 'nope'") as err:
        load_segmenter("nope")
    assert "netpqc" in err.value.hint
