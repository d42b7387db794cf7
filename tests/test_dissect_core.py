"""Known-answer tests of the dissection semantics: hand-computed IoUs, exact thresholds, the
resize, and units planted to fire exactly on one concept."""

import numpy as np
import pytest
import torch

from lce.dissect.concepts import ConceptIndex, image_concepts
from lce.dissect.quantile import StreamingTopK, TopImages, topk_size
from lce.dissect.resize import resize
from lce.dissect.run import DissectConfig, dissect_model, null_pairing
from lce.dissect.tally import IoUTally, fired_pixels
from lce.probe.broden import BrodenProbe
from tests.dissect_helpers import IndexedImages, MemoryProbe, PlantedMaps, hand_probe


def tally_maps(maps: np.ndarray, thresholds, probe) -> IoUTally:
    """Tally (N, C, h, w) maps against the probe's concepts with given thresholds."""
    index = ConceptIndex.from_probe(probe)
    tally = IoUTally(maps.shape[1], index)
    size = (probe.records[0].sh, probe.records[0].sw)
    concepts = [image_concepts(probe.segmentation(i), probe.image_level, index, size)
                for i in range(len(probe))]
    fired = fired_pixels(torch.from_numpy(maps), torch.tensor(thresholds), size)
    tally.add_batch(fired, concepts)
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
    # lite: A counts only fired pixels on labelled object pixels: 2
    assert tally.iou("lite")[0, box] == pytest.approx(2 / (2 + 4 - 2))
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


def test_top_images_keep_the_largest_maxima_in_order():
    top = TopImages(2, 3)
    maxima = torch.tensor([[1.0, 5.0], [4.0, 5.0], [2.0, 0.0], [4.0, 7.0]])
    top.update(maxima[:2], 0)
    top.update(maxima[2:], 2)
    assert top.images.tolist() == [[1, 3, 2], [3, 0, 1]]  # ties: the earlier image first
    assert top.values.tolist() == [[4.0, 4.0, 2.0], [7.0, 5.0, 5.0]]


@pytest.mark.parametrize("shape,size", [((7, 7), (112, 112)), ((14, 10), (56, 40)),
                                        ((56, 56), (28, 28)), ((9, 13), (5, 20))])
def test_resize_equals_pil_bilinear(shape, size):
    from PIL import Image

    small = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    ours = resize(torch.from_numpy(small)[None, None], size)[0, 0].numpy()
    pil = np.asarray(Image.fromarray(small, mode="F").resize(size[::-1], Image.BILINEAR))
    np.testing.assert_allclose(ours, pil, atol=1e-5)


@pytest.mark.parametrize("shape,size", [((7, 7), (112, 112)), ((14, 10), (56, 40)),
                                        ((12, 12), (6, 6))])
def test_sparse_masks_equal_dense_resize(shape, size):
    rng = np.random.default_rng(2)
    maps = torch.from_numpy(rng.normal(size=(3, 20, *shape)).astype(np.float32))
    thresholds = torch.from_numpy(np.quantile(maps.transpose(0, 1).flatten(1).numpy(), 0.8,
                                              axis=1).astype(np.float32))
    dense = resize(maps, size) > thresholds[None, :, None, None]
    fired = fired_pixels(maps, thresholds, size)
    sparse = torch.zeros_like(dense)
    sparse.view(3, 20, -1)[fired.pair_image[fired.pixel_pair], fired.pair_unit[fired.pixel_pair],
                           fired.pixel] = True
    assert dense.any()
    assert torch.equal(sparse, dense)


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
    config = DissectConfig(quantile=0.9, denominator=denominator, exemplars=2)
    result = dissect_model(PlantedMaps(maps), IndexedImages(probe), ["block.layer"],
                           PlantedMaps.MEAN,
                           PlantedMaps.STD, config).layers["block.layer"]
    frame = result.profile
    assert frame["threshold"].tolist() == [0.0, 0.0, 0.0]
    assert (frame.loc[0, "label"], frame.loc[0, "category"]) == (names[obj], "object")
    assert (frame.loc[1, "label"], frame.loc[1, "category"]) == (names[scene], "scene")
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


def test_dissect_variant_thresholds_upsampled_maps_and_takes_global_argmax():
    probe = hand_probe()
    probe.size = (8, 8)
    probe.segs = [{"object": np.kron(s["object"], np.ones((1, 2, 2), np.int32)),
                   "scene": s["scene"]} for s in probe.segs]
    maps = np.random.default_rng(5).normal(size=(2, 4, 4, 4)).astype(np.float32)
    config = DissectConfig(quantile=0.05, method="dissect", null_baseline=False)
    frame = dissect_model(PlantedMaps(maps), probe, ["block.layer"], PlantedMaps.MEAN,
                          PlantedMaps.STD, config).layers["block.layer"].profile
    upsampled = resize(torch.from_numpy(maps), (8, 8)).numpy()
    expected = np.quantile(upsampled.transpose(1, 0, 2, 3).reshape(4, -1), 0.95, axis=1)
    np.testing.assert_array_equal(frame["threshold"].to_numpy(), expected.astype(np.float32))
    assert "null_iou" not in frame
