"""Known-answer tests of the dissection semantics on tiny hand-made and planted data."""

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from lce.dissect.labels import label_units
from lce.dissect.run import tally_layer, unit_thresholds
from lce.dissect.tally import ConceptIndex, upsample
from lce.probe.broden import BrodenProbe, Concept


@dataclass
class Rec:
    sh: int
    sw: int


@dataclass
class FakeProbe:
    """An in-memory probe: per-image segmentations at 4x4, two categories."""

    segs: list
    categories: list = field(default_factory=lambda: ["object", "scene"])
    image_level: set = field(default_factory=lambda: {"scene"})
    concepts: dict = field(default_factory=lambda: {
        1: Concept(1, "box", "object"), 2: Concept(2, "ball", "object"),
        300: Concept(300, "beach", "scene")})

    def __len__(self):
        return len(self.segs)

    @property
    def records(self):
        return [Rec(4, 4)] * len(self.segs)

    def segmentation(self, i):
        return self.segs[i]


def hand_probe():
    obj0 = np.zeros((1, 4, 4), np.int32)
    obj0[0, :2, :2] = 1  # box: 4 pixels in image 0
    obj1 = np.zeros((1, 4, 4), np.int32)  # image 1 has no object at all
    return FakeProbe([
        {"object": obj0, "scene": np.array([300], np.int32)},
        {"object": obj1[:0], "scene": np.array([], np.int32)},
    ])


def test_hand_computed_iou_both_denominators():
    probe = hand_probe()
    index = ConceptIndex.from_probe(probe)
    acts = np.zeros((2, 1, 4, 4), np.float32)
    acts[0, 0, 0, :3] = 1  # fires on 3 pixels of image 0, 2 of them on the box
    acts[0, 0, 3, 3] = 1  # and one unlabelled pixel of image 0
    acts[1, 0, :, :] = 1  # and all 16 pixels of image 1, which has no object
    tally = tally_layer(acts, np.array([0.5], np.float32), probe, index)
    box = index.columns(np.array([1]))[0]
    beach = index.columns(np.array([300]))[0]
    assert tally.intersection[0, box] == 2
    assert tally.concept_area[box] == 4
    # netdissect: A counts only images containing objects (image 0): 4 pixels
    assert tally.iou("netdissect")[0, box] == pytest.approx(2 / (4 + 4 - 2))
    # lite: A counts only fired pixels on labelled object pixels: 2
    assert tally.iou("lite")[0, box] == pytest.approx(2 / (2 + 4 - 2))
    # scene is image-level: beach covers all 16 pixels of image 0
    assert tally.intersection[0, beach] == 4
    assert tally.iou("netdissect")[0, beach] == pytest.approx(4 / (4 + 16 - 4))


def test_threshold_equals_numpy_quantile():
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(7, 5, 3, 4)).astype(np.float32)
    got = unit_thresholds(acts, 0.01)
    for u in range(5):
        assert got[u] == pytest.approx(np.quantile(acts[:, u].ravel(), 0.99), rel=1e-6)


def test_upsample_matches_pil_bilinear():
    from PIL import Image

    rng = np.random.default_rng(1)
    small = rng.random((7, 7)).astype(np.float32)
    ours = upsample(torch.from_numpy(small)[None, None], (112, 112))[0, 0].numpy()
    pil = np.asarray(Image.fromarray(small, mode="F").resize((112, 112), Image.BILINEAR))
    np.testing.assert_allclose(ours, pil, atol=1e-5)


@pytest.mark.parametrize("denominator", ["netdissect", "lite"])
def test_planted_units_get_their_concept(tiny_probe, denominator):
    probe = BrodenProbe(tiny_probe)
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    sh = probe.records[0].sh
    segs = [probe.segmentation(i) for i in range(len(probe))]
    # pick a pixel-level object concept and an image-level scene present in the probe
    objects = np.concatenate([s["object"].ravel() for s in segs])
    obj = int(np.bincount(objects[objects > 0]).argmax())
    scene = int(segs[0]["scene"][0])
    acts = np.zeros((len(probe), 3, sh, sh), np.float32)
    for i, seg in enumerate(segs):
        acts[i, 0] = (seg["object"] == obj).any(axis=0)
        acts[i, 1] = float(scene in seg["scene"].tolist())
    acts[:, 2] = np.random.default_rng(0).random(acts[:, 2].shape) * 0.4
    tally = tally_layer(acts, np.array([0.5, 0.5, 0.5], np.float32), probe, index)
    frame = label_units(tally.iou(denominator), index, names)
    assert frame.loc[0, "label"] == names[obj]
    assert frame.loc[0, "category"] == "object"
    assert frame.loc[0, "iou"] == pytest.approx(1.0)
    assert frame.loc[1, "label"] == names[scene]
    assert frame.loc[1, "category"] == "scene"
    assert frame.loc[1, "iou"] == pytest.approx(1.0)
    assert frame.loc[2, "label"] == "" and frame.loc[2, "iou"] == 0.0
