"""Known-answer tests of the dissection semantics: hand-computed IoUs, exact thresholds, the
resize, and units planted to fire exactly on one concept."""

import numpy as np
import pytest
import torch

from lce.dissect.concepts import ConceptIndex, image_concepts
from lce.dissect.labels import label_units
from lce.dissect.quantile import StreamingTopK, TopImages, top_quantile, topk_size
from lce.dissect.resize import resize
from lce.dissect.run import dissect_model, null_pairing, resolved
from lce.dissect.tally import IoUTally
from lce.params import DissectParams
from lce.probe.broden import BrodenProbe
from tests.support.dissect import IndexedImages, MemoryProbe, PlantedMaps, hand_probe


def tally_maps(maps: np.ndarray, thresholds, probe) -> IoUTally:
    """Tally (N, C, h, w) maps against the probe's concepts with given thresholds."""
    index = ConceptIndex.from_probe(probe)
    tally = IoUTally(torch.tensor(thresholds, dtype=torch.float32), index)
    size = (probe.records[0].sh, probe.records[0].sw)
    concepts = [image_concepts(probe.segmentation(i), probe.image_level, index, size)
                for i in range(len(probe))]
    tally.add_batch(torch.from_numpy(maps), concepts, size)
    return tally


def test_hand_computed_iou_both_denominators():
    probe = hand_probe()
    index = ConceptIndex.from_probe(probe)
    acts = np.zeros((2, 1, 4, 4), np.float32)
    acts[0, 0, 0, :3] = 1  # fires on 3 pixels of image 0, 2 of them on the box
    acts[0, 0, 3, 3] = 1  # and one unlabelled pixel of image 0
    acts[1, 0, :, :] = 1  # and all 16 pixels of image 1, which has no object
    tally = tally_maps(acts, [0.5], probe)
    box, beach = index.columns(np.array([1, 300]))
    assert tally.intersection[0, box] == 2
    assert tally.concept_area[box] == 4
    # netdissect: A counts only images containing objects (image 0): 4 pixels
    assert tally.iou("netdissect")[0, box] == pytest.approx(2 / (4 + 4 - 2))
    # lite: A counts the whole fired area of images where a fired pixel is an object: 4
    assert tally.iou("lite")[0, box] == pytest.approx(2 / (4 + 4 - 2))
    # scene is image-level: beach covers all 16 pixels of image 0
    assert tally.intersection[0, beach] == 4
    assert tally.iou("netdissect")[0, beach] == pytest.approx(4 / (4 + 16 - 4))
    assert tally.iou("lite")[0, beach] == pytest.approx(4 / (4 + 16 - 4))


def test_same_label_on_two_planes_counts_each_pixel_once():
    planes = np.zeros((2, 4, 4), np.int32)
    planes[0, 0, :2] = 2  # ball on two pixels in plane 0 ...
    planes[1, 0, 1:3] = 2  # ... and overlapping in plane 1: three distinct pixels
    probe = MemoryProbe([{"object": planes, "scene": np.array([], np.int32)}])
    acts = np.ones((1, 1, 4, 4), np.float32)
    tally = tally_maps(acts, [0.5], probe)
    ball = ConceptIndex.from_probe(probe).columns(np.array([2]))[0]
    assert tally.concept_area[ball] == 3
    assert tally.intersection[0, ball] == 3


@pytest.mark.parametrize("quantile", [0.005, 0.01, 0.2, 0.5])
def test_streaming_threshold_equals_numpy_quantile(quantile):
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(6, m)).astype(np.float32) for m in (37, 1, 250, 64)]
    batches[1][:] = 3.0  # ties
    values = np.concatenate(batches, axis=1)
    n = values.shape[1]
    top = StreamingTopK(6, topk_size(n, quantile))
    for batch in batches:
        top.update(torch.from_numpy(batch))
    got = top.quantiles(n, quantile)
    expected = np.quantile(values, 1 - quantile, axis=1).astype(np.float32)
    np.testing.assert_array_equal(got, expected)


def test_threshold_from_top_values_equals_numpy_for_many_sizes():
    rng = np.random.default_rng(7)
    for trial in range(400):
        n = int(rng.integers(1, 2000))
        quantile = float(rng.choice([0.005, 0.01, 0.3, 0.999, 1e-4, rng.random()]))
        values = rng.normal(size=(3, n)).astype(np.float32) * float(rng.choice([1e-3, 1, 1e4]))
        if trial % 2:
            values = np.round(values)  # many ties
        top = -np.sort(-values, axis=1)[:, :topk_size(n, quantile)]
        got = top_quantile(rng.permuted(top, axis=1), n, quantile)
        expected = np.quantile(values, 1 - quantile, axis=1)
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_array_equal(got, expected, err_msg=f"n={n}, q={quantile}")


def test_threshold_beyond_2_24_values_equals_numpy():
    n = (1 << 24) + 1001  # more values per unit than the old surrogate path handled in one block
    values = np.random.default_rng(8).integers(0, 5000, n).astype(np.float32)[None]  # ties
    top = StreamingTopK(1, topk_size(n, 0.005))
    for start in range(0, n, 1 << 22):
        top.update(torch.from_numpy(values[:, start:start + (1 << 22)]))
    assert top.values.shape[1] == topk_size(n, 0.005) < n // 100
    np.testing.assert_array_equal(top.quantiles(n, 0.005), np.quantile(values, 0.995, axis=1))


def test_threshold_of_a_huge_stream_reads_the_right_order_statistics():
    """n = 10^12 values per unit: nothing of size n may be built (4 TB of float32). The kept top
    values are their local ranks 0..k-1, so numpy's answer is the fractional part of its virtual
    index (n - 1) * (1 - q) -- and any off-by-one in the index arithmetic leaves [0, 1]."""
    from fractions import Fraction

    n, quantile = 10**12 + 3 * 10**8 + 1, 1e-9
    k = topk_size(n, quantile)
    assert 1000 < k < 1010
    ranks = np.random.default_rng(9).permutation(k).astype(np.float32)
    got = top_quantile(np.stack([ranks, ranks * 2]), n, quantile)
    exact = Fraction(n - 1) * Fraction(1 - quantile)
    frac = float(exact - int(exact))
    np.testing.assert_allclose(got, [frac, 2 * frac], atol=1e-3)
    assert 0.01 < frac < 0.99  # a genuine interpolation, not an end point


def test_top_images_keep_the_largest_maxima_in_order():
    top = TopImages(2, 3)
    maxima = torch.tensor([[1.0, 5.0], [4.0, 5.0], [2.0, 0.0], [4.0, 7.0]])
    top.update(maxima[:2], 0)
    top.update(maxima[2:], 2)
    assert top.images.tolist() == [[1, 3, 2], [3, 0, 1]]  # ties: the earlier image first
    assert top.values.tolist() == [[4.0, 4.0, 2.0], [7.0, 5.0, 5.0]]


@pytest.mark.parametrize("shape,size", [((7, 7), (112, 112)), ((14, 10), (56, 40)),
                                        ((56, 56), (28, 28)), ((5, 13), (9, 7))])
def test_resize_equals_pil_bilinear(shape, size):
    from PIL import Image

    small = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    ours = resize(torch.from_numpy(small)[None, None], size)[0, 0].numpy()
    pil = np.asarray(Image.fromarray(small, mode="F").resize(size[::-1], Image.BILINEAR))
    np.testing.assert_array_equal(ours.view(np.int32), pil.view(np.int32))  # bit for bit


def test_null_pairing_is_a_seeded_derangement():
    pairing = null_pairing(50, seed=3)
    assert sorted(pairing.tolist()) == list(range(50))
    assert not (pairing == np.arange(50)).any()
    assert np.array_equal(pairing, null_pairing(50, seed=3))
    assert not np.array_equal(pairing, null_pairing(50, seed=4))


def planted_maps(probe: BrodenProbe, obj: int, scene: int) -> np.ndarray:
    """Unit 0 fires exactly on concept ``obj``'s pixels, unit 1 on images of scene ``scene``,
    unit 2 never rises above zero."""
    sh = probe.records[0].sh
    maps = np.zeros((len(probe), 3, sh, sh), np.float32)
    for i in range(len(probe)):
        seg = probe.segmentation(i)
        maps[i, 0] = (seg["object"] == obj).any(axis=0) * (1 + i / 100)
        maps[i, 1] = float(scene in seg["scene"].tolist())
    return maps


@pytest.mark.parametrize("denominator", ["netdissect", "lite"])
def test_planted_units_get_their_concept(tiny_probe, denominator):
    probe = BrodenProbe(tiny_probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    segs = [probe.segmentation(i) for i in range(len(probe))]
    objects = np.concatenate([s["object"].ravel() for s in segs])
    obj = int(np.bincount(objects[objects > 0]).argmax())
    scene = int(segs[0]["scene"][0])
    maps = planted_maps(probe, obj, scene)
    # q = 0.9: T_u is the 10% quantile, 0 for every unit (each is zero on > 10% of its values)
    config = DissectParams(quantile=0.9, denominator=denominator, exemplars=2)
    result = dissect_model(PlantedMaps(maps), IndexedImages(probe), ["block.layer"],
                           PlantedMaps.MEAN,
                           PlantedMaps.STD, config).layers["block.layer"]
    frame = result.profile
    assert frame["threshold"].tolist() == [0.0, 0.0, 0.0]
    assert (frame.loc[0, "label"], frame.loc[0, "category"]) == (names[obj], "object")
    assert (frame.loc[1, "scene_label"], frame.loc[1, "scene_iou"]) == (names[scene], 1.0)
    # a texture on exactly the images of that scene ties at 1: the later category wins (Lite)
    tied = frame.loc[1, "texture_iou"] == 1.0
    assert (frame.loc[1, "label"], frame.loc[1, "category"]) == (
        (frame.loc[1, "texture_label"], "texture") if tied else (names[scene], "scene"))
    assert frame.loc[0, "iou"] == pytest.approx(1.0)
    assert frame.loc[1, "iou"] == pytest.approx(1.0)
    assert frame.loc[0, "object_iou"] == pytest.approx(1.0)
    assert frame.loc[2, "label"] == "" and frame.loc[2, "iou"] == 0.0
    assert frame["interpretable"].tolist() == [True, True, False]
    # shuffled images cannot explain a unit planted on its own image's concept
    assert frame.loc[0, "null_iou"] < 0.9 and frame.loc[1, "null_iou"] < 1.0
    # exemplars of unit 0: the images where the concept is, the largest activation first
    has_obj = [i for i, s in enumerate(segs) if (s["object"] == obj).any()]
    ex = result.exemplars[result.exemplars["unit"] == 0]
    assert ex["image_index"].tolist() == sorted(has_obj, reverse=True)[:2]
    # the full concept table holds exact counts behind the IoU
    row = result.concept_iou.query("unit == 0 and concept == @names[@obj]").iloc[0]
    assert row["intersect"] == row["union"] > 0


@pytest.mark.parametrize("quantile,q", [(0.05, 0.05), (None, 0.01)])  # None: Dissect's own q
def test_dissect_variant_thresholds_upsampled_maps(quantile, q):
    probe = hand_probe()
    probe.size = (8, 8)
    probe.segs = [{"object": np.kron(s["object"], np.ones((1, 2, 2), np.int32)),
                   "scene": s["scene"]} for s in probe.segs]
    maps = np.random.default_rng(5).normal(size=(2, 4, 4, 4)).astype(np.float32)
    config = DissectParams(quantile=quantile, method="dissect", null_baseline=False)
    frame = dissect_model(PlantedMaps(maps), probe, ["block.layer"], PlantedMaps.MEAN,
                          PlantedMaps.STD, config).layers["block.layer"].profile
    upsampled = resize(torch.from_numpy(maps), (8, 8)).numpy()
    expected = np.quantile(upsampled.transpose(1, 0, 2, 3).reshape(4, -1), 1 - q, axis=1)
    np.testing.assert_array_equal(frame["threshold"].to_numpy(), expected.astype(np.float32))
    assert "null_iou" not in frame


@pytest.mark.parametrize("method,label,category", [("netdissect", "beach", "scene"),
                                                   ("dissect", "box", "object")])
def test_the_two_labelling_rules_on_a_tie_across_categories(method, label, category):
    """Unit 0 fires on all of image 0, which is all box (label 1) and the scene beach (300): IoU
    1 for both. NetDissect keeps the best per category and then the later category (scene,
    listed last), as NetDissect-Lite does; Dissect takes the argmax over all concepts at once
    (the lower label: box). Unit 1 fires on the ball in image 1, which wins under both rules."""
    ball = np.zeros((1, 4, 4), np.int32)
    ball[0, :2, :] = 2
    probe = MemoryProbe([{"object": np.ones((1, 4, 4), np.int32), "scene": np.array([300])},
                         {"object": ball, "scene": np.array([], np.int32)}],
                        categories=["object", "scene"])
    maps = np.ones((2, 2, 4, 4), np.float32)  # 1: at the threshold, so not firing
    maps[0, 0] = 2
    maps[1, 0, 2:] = 0
    maps[1, 1, :2] = 2
    # q = 0.6: both thresholds are the value at sorted positions 12 and 13 of 32: 1.0
    config = DissectParams(quantile=0.6, method=method, null_baseline=False)
    frame = dissect_model(PlantedMaps(maps), probe, ["block.layer"], PlantedMaps.MEAN,
                          PlantedMaps.STD, config).layers["block.layer"].profile
    assert frame["threshold"].tolist() == [1.0, 1.0]
    assert frame["object_iou"].tolist() == [1.0, 1.0] and frame["scene_iou"].tolist() == [1.0, 0]
    assert (frame.loc[0, "label"], frame.loc[0, "category"]) == (label, category)
    assert frame.loc[0, "iou"] == 1.0 and frame.loc[0, "scene_label"] == "beach"
    assert (frame.loc[1, "label"], frame.loc[1, "category"]) == ("ball", "object")


def test_label_rules_differ_only_in_tie_breaking():
    """Random IoUs without ties: both rules give the same labels, IoUs and categories."""
    probe = hand_probe()
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    iou = np.random.default_rng(4).random((50, len(index.numbers)))
    netdissect = label_units(iou, index, names, "netdissect")
    dissect_rule = label_units(iou, index, names, "dissect")
    assert netdissect.equals(dissect_rule)
    assert set(netdissect["category"]) == {"object", "scene"}


@pytest.mark.parametrize("entry,quantile", [
    ({}, 0.005), ({"method": "dissect"}, 0.01), ({"quantile": None, "method": "dissect"}, 0.01),
    ({"quantile": 0.02, "method": "dissect"}, 0.02), ({"quantile": 0.1}, 0.1),
])
def test_quantile_defaults_to_the_methods_own(entry, quantile):
    from lce.params import dissect_params
    from lce.validation import check_dissect

    assert check_dissect(dissect_params({"dissect": entry})) == quantile
    assert resolved(DissectParams(quantile=entry.get("quantile"),
                                  method=entry.get("method", "netdissect"))).quantile == quantile


@pytest.mark.parametrize("value", [0, 1.5, "0.01", True])
def test_bad_quantile_is_a_clear_error(value):
    from lce.errors import LCEError
    from lce.params import dissect_params
    from lce.validation import check_dissect

    with pytest.raises(LCEError, match=r"params.yaml: dissect.quantile: must be a number in "
                                       r"\(0, 1\) or null"):
        check_dissect(dissect_params({"dissect": {"quantile": value}}))
    with pytest.raises(LCEError, match="dissect.quantile"):
        resolved(DissectParams(quantile=value))
