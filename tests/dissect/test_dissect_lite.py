"""NetDissect-Lite's semantics, hand-computed, so that CI needs no Lite checkout.

``benchmarks/bench_vs_netdissect_lite.py`` compares the engine with the real NetDissect-Lite; these
tests pin the same rules on tiny cases: the ``lite`` union (the whole fired area of an image once
one fired pixel carries a concept of the category), image-level labels, PIL's resize arithmetic
at the threshold, the tie rules, and the one intended difference (a label on two planes at one
pixel counts once).
"""

from fractions import Fraction

import numpy as np
import pytest
import torch
from PIL import Image

from lce.dissect.concepts import ConceptIndex, ImageConcepts, image_concepts
from lce.dissect.labels import label_units
from lce.dissect.resize import above_threshold, resize
from lce.dissect.tally import IoUTally
from lce.probe.broden import BrodenProbe, Concept
from tests.support.dissect import MemoryProbe


def tally(probe, maps: np.ndarray, threshold: float) -> IoUTally:
    index = ConceptIndex.from_probe(probe)
    size = (probe.records[0].sh, probe.records[0].sw)
    counts = IoUTally(torch.full((maps.shape[1],), threshold), index)
    counts.add_batch(torch.from_numpy(maps.astype(np.float32)),
                     [image_concepts(probe.segmentation(i), probe.image_level, index, size)
                      for i in range(len(probe))], size)
    return counts


def iou_of(counts: IoUTally, denominator: str, number: int) -> Fraction:
    """The exact IoU of unit 0 and concept ``number``, from the integer counts."""
    inter, union = counts.counts(denominator)
    column = int(counts.index.columns(np.array([number]))[0])
    return Fraction(int(inter[0, column]), int(union[0, column]))


def test_lite_union_is_the_whole_fired_area_of_each_touched_image():
    """The issue's smallest case: a unit fires on 6,272 of 12,544 pixels, 3,136 of them on a
    box of 6,272 pixels. Lite adds the whole fired area to the object union: IoU 3136 / (6272 +
    6272 - 3136) = 1/3 (only the labelled fired pixels would give 1/2). Image 1 holds a ball but
    the unit's 1,120 fired pixels there touch no object: ``netdissect`` counts them, Lite not."""
    box = np.zeros((1, 112, 112), np.int32)
    box[0, :, :56] = 1
    ball = np.zeros((1, 112, 112), np.int32)
    ball[0, 100:] = 2
    probe = MemoryProbe([{"object": box, "scene": np.array([], np.int32)},
                         {"object": ball, "scene": np.array([], np.int32)}], size=(112, 112))
    maps = np.zeros((2, 1, 112, 112))
    maps[0, 0, :56] = 1  # 6,272 pixels, the top half
    maps[1, 0, :10] = 1  # 1,120 pixels, none on the ball
    counts = tally(probe, maps, 0.5)
    assert iou_of(counts, "lite", 1) == Fraction(1, 3)
    assert iou_of(counts, "netdissect", 1) == Fraction(3136, 6272 + 1120 + 6272 - 3136)
    assert iou_of(counts, "lite", 2) == iou_of(counts, "netdissect", 2) == 0


def test_image_level_labels_count_when_the_unit_fires_at_all():
    """Scene 'beach' covers image 0 (16 pixels), where the unit fires on 5 pixels, and image 2,
    where it does not fire; image 1 has no scene and 7 fired pixels. I = 5, G = 32, and the
    scene union adds the fired area of image 0 only, under both rules: 5 / (5 + 32 - 5)."""
    empty = np.zeros((0, 4, 4), np.int32)
    probe = MemoryProbe([{"object": empty, "scene": np.array([300])},
                         {"object": empty, "scene": np.array([], np.int32)},
                         {"object": empty, "scene": np.array([300])}])
    maps = np.zeros((3, 1, 4, 4))
    maps[0, 0].flat[:5] = 1
    maps[1, 0].flat[:7] = 1
    counts = tally(probe, maps, 0.5)
    assert iou_of(counts, "lite", 300) == iou_of(counts, "netdissect", 300) == Fraction(5, 32)


def test_lite_area_follows_the_labels_primary_category_not_its_plane():
    """Wood (primary category material) drawn on an object plane: the fired pixels on it add the
    image's whole fired area to the *material* union under Lite; ``netdissect`` counts images
    that have material planes, and this one has none."""
    wood = np.zeros((1, 4, 4), np.int32)
    wood[0, 0] = 5  # 4 pixels
    probe = MemoryProbe([{"object": wood, "material": np.zeros((0, 4, 4), np.int32),
                          "scene": np.array([], np.int32)}],
                        categories=["object", "material", "scene"],
                        concepts={1: Concept(1, "box", "object"),
                                  5: Concept(5, "wood", "material"),
                                  300: Concept(300, "beach", "scene")})
    maps = np.zeros((1, 1, 4, 4))
    maps[0, 0, :2] = 1  # 8 pixels, 4 on wood
    counts = tally(probe, maps, 0.5)
    assert iou_of(counts, "lite", 5) == Fraction(4, 8 + 4 - 4)
    material = counts.index.categories.index("material")
    assert counts.area_lite[0, material] == 8 and counts.area_netdissect[0, material] == 0


def test_same_label_on_two_planes_counts_once_unlike_lite():
    """The intended difference: ball on 2 pixels of plane 0 and 2 of plane 1, overlapping on one.
    Lite's bincount over all planes would give G = I = 4; the engine counts the 3 pixels once."""
    planes = np.zeros((2, 4, 4), np.int32)
    planes[0, 0, :2] = 2
    planes[1, 0, 1:3] = 2
    probe = MemoryProbe([{"object": planes, "scene": np.array([], np.int32)}])
    counts = tally(probe, np.ones((1, 1, 4, 4)), 0.5)
    inter, union = counts.counts("lite")
    ball = int(counts.index.columns(np.array([2]))[0])
    assert (inter[0, ball], counts.concept_area[ball]) == (3, 3)


def test_label_ties_go_to_the_lower_number_then_the_later_category():
    probe = MemoryProbe([], categories=["object", "scene", "texture"],
                        concepts={1: Concept(1, "box", "object"), 2: Concept(2, "ball", "object"),
                                  300: Concept(300, "beach", "scene"),
                                  400: Concept(400, "dotted", "texture")})
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    iou = np.array([[0.5, 0.5, 0.5, 0.2],   # three-way tie: texture loses, scene is the later
                    [0.3, 0.3, 0.1, 0.3],   # object and texture tie: texture
                    [0.2, 0.4, 0.1, 0.1]])  # no tie
    frame = label_units(iou, index, names)
    assert frame["object_label"].tolist() == ["box", "box", "ball"]  # lower label number
    assert list(zip(frame["label"], frame["category"], strict=True)) == [
        ("beach", "scene"), ("dotted", "texture"), ("ball", "object")]


def test_equal_coverage_gives_the_later_primary_category(tmp_path):
    """Like Lite's max((coverage, category index)): an object label listed in c_part.csv with
    the same coverage becomes a part (the later category), and a part label listed in
    c_object.csv with its own coverage stays a part."""
    import csv

    from lce.probe.synthetic import SyntheticOptions, generate

    root = generate(tmp_path / "probe", SyntheticOptions(n_images=4, image_size=32))
    concepts = BrodenProbe(root).concepts
    obj = next(c for c in concepts.values() if c.category == "object")
    part = next(c for c in concepts.values() if c.category == "part")

    def rows(category):
        with (root / f"c_{category}.csv").open(newline="") as fh:
            return list(csv.DictReader(fh))

    def add(category, concept, coverage):
        table = rows(category)
        table.append({"code": str(len(table) + 1), "number": str(concept.number),
                      "name": concept.name, "frequency": "1", "coverage": coverage})
        with (root / f"c_{category}.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, list(table[0]))
            writer.writeheader()
            writer.writerows(table)

    coverage = {c: {r["number"]: r["coverage"] for r in rows(c)} for c in ("object", "part")}
    add("part", obj, coverage["object"][str(obj.number)])
    add("object", part, coverage["part"][str(part.number)])
    concepts = BrodenProbe(root).concepts
    assert concepts[obj.number].category == "part"
    assert concepts[part.number].category == "part"


def pil_masks(maps: np.ndarray, thresholds: np.ndarray, size) -> np.ndarray:
    """(N, C, H, W) masks PIL's bilinear resize gives, map by map."""
    return np.stack([[np.asarray(Image.fromarray(m, mode="F").resize(
        size[::-1], Image.Resampling.BILINEAR)) > t for m, t in zip(image, thresholds,
                                                                  strict=True)]
        for image in maps])


def engine_masks(maps: np.ndarray, thresholds: np.ndarray, size, compiled: bool,
                 window=None) -> tuple[np.ndarray, np.ndarray]:
    """The tally's fired pixels, one image at a time: each pixel of ``window`` (rows, cols
    slices; default: all) its own concept. Returns the window's masks and the fired areas."""
    rows, cols = window or (slice(0, size[0]), slice(0, size[1]))
    grid = np.full(size, -1)
    grid[rows, cols] = np.arange(grid[rows, cols].size).reshape(grid[rows, cols].shape)
    n = int(grid.max()) + 1
    kind = np.where(grid >= 0, grid, n).ravel()  # kind n: outside the window, no concept
    index = ConceptIndex(np.arange(1, n + 1), ["pixel"], np.zeros(n, np.int64))
    per_pixel = ImageConcepts(np.arange(n), np.ones(1, bool), np.ones(n, np.int64), kind,
                              np.eye(n + 1, n, dtype=bool))
    masks, areas = np.zeros((*maps.shape[:2], n), bool), np.zeros(maps.shape[:2], np.int64)
    for i, image in enumerate(maps):
        counts = IoUTally(torch.from_numpy(thresholds), index)
        counts.add_batch(torch.from_numpy(image[None]), [per_pixel], size, compiled=compiled)
        masks[i] = counts.intersection[:, :-1].numpy() > 0
        areas[i] = counts.area_netdissect[:, 0].numpy()
    return masks.reshape(*maps.shape[:2], *grid[rows, cols].shape), areas


# The issue's case: default model, image 23, unit 1184 -- its 7x7 map as float32 bit patterns.
# PIL gives 4.3124456 at pixel (71, 81), above T = 4.312445; float32 sums gave T itself.
ISSUE_MAP = np.array([
    0, 0, 0, 0, 0, 0, 0, 0, 1046799028, 1070827330, 1061366284, 1065726764, 0, 0, 983800154,
    1060018356, 1077805736, 1079685624, 1081954175, 1074911764, 1057480635, 1059926764,
    1065074597, 1075250585, 1080277747, 1083903031, 1081850210, 1071500328, 1059177527,
    1066463035, 1069894648, 1082063719, 1082848245, 1082743864, 1071696191, 1047556994,
    1064766919, 1053883145, 1074273802, 1075576464, 1076283345, 1066530342, 0, 1053709914,
    1044763616, 1067197795, 1062015877, 1053812820, 0], np.int32).view(np.float32)
ISSUE_T = np.array([1082785677], np.int32).view(np.float32)


@pytest.mark.parametrize("compiled", [True, False])
def test_masks_equal_pils_at_the_threshold(compiled):
    rng = np.random.default_rng(3)
    size = (112, 112)
    maps = np.zeros((3, 5, 7, 7), np.float32)
    maps[0, 0] = ISSUE_MAP.reshape(7, 7)
    maps[1:] = rng.gamma(2.0, 1.0, (2, 5, 7, 7)).astype(np.float32)
    maps[:, 1] = np.minimum(maps[:, 1] * 3, 6)  # ReLU6: saturated at 6, the threshold below
    maps[:, 2] = np.minimum(maps[:, 2] * 3, 6)  # ... and at 6 itself: nothing exceeds it
    dense = resize(torch.from_numpy(maps), size).numpy()
    # thresholds on resized values themselves, and one float32 step either side
    thresholds = np.array([ISSUE_T[0], 5.9999995, 6.0, dense[1, 3, 50, 60],
                           np.nextafter(dense[2, 4, 20, 90], np.float32(0))], np.float32)
    expected = pil_masks(maps, thresholds, size)
    assert expected[0, 0, 71, 81] and dense[0, 0, 71, 81] > ISSUE_T[0]
    assert expected[:, 1].sum() > 1000 and not expected[:, 2].any()
    np.testing.assert_array_equal(dense > thresholds[None, :, None, None], expected)
    # every pixel of a window around the issue's pixel (71, 81), and the fired areas
    window = (slice(56, 88), slice(64, 96))
    masks, areas = engine_masks(maps, thresholds, size, compiled, window)
    np.testing.assert_array_equal(masks, expected[:, :, window[0], window[1]])
    np.testing.assert_array_equal(areas, expected.sum(axis=(2, 3)))


@pytest.mark.parametrize("shape,size", [((7, 7), (113, 97)), ((5, 9), (40, 12)),
                                        ((14, 14), (14, 28))])
def test_masks_equal_pils_for_other_sizes(shape, size):
    rng = np.random.default_rng(4)
    maps = rng.normal(size=(2, 6, *shape)).astype(np.float32)
    thresholds = np.quantile(maps.transpose(1, 0, 2, 3).reshape(6, -1), 0.8, axis=1)
    thresholds = thresholds.astype(np.float32)
    expected = pil_masks(maps, thresholds, size)
    for compiled in (True, False):
        masks, areas = engine_masks(maps, thresholds, size, compiled)
        np.testing.assert_array_equal(masks, expected)
        np.testing.assert_array_equal(areas, expected.sum(axis=(2, 3)))


def test_threshold_bound_decides_float32_rounding_exactly():
    """d > above_threshold(T) exactly when float32(d) > T, at and around the rounding midpoint."""
    rng = np.random.default_rng(5)
    t = np.concatenate([rng.normal(size=200).astype(np.float32) * 10,
                        np.array([0.0, -0.0, 6.0, 1e-40, -3.5], np.float32)])
    bound = above_threshold(torch.from_numpy(t)).numpy()
    up = np.nextafter(t, np.float32(np.inf)).astype(np.float64)
    mid = (t.astype(np.float64) + up) / 2
    for d in (mid, np.nextafter(mid, np.inf), np.nextafter(mid, -np.inf), up,
              t.astype(np.float64)):
        np.testing.assert_array_equal(d > bound, d.astype(np.float32) > t)


def test_compiled_and_tensor_tallies_equal_the_reference():
    """The CPU kernel and the tensor path (other devices) give the reference's exact counts."""
    from lce.dissect.reference import reference_tally

    rng = np.random.default_rng(6)
    size, n_images = (24, 20), 5
    segs = []
    for i in range(n_images):
        objects = rng.choice([0, 1, 2], size=(2, *size), p=[0.5, 0.3, 0.2]).astype(np.int32)
        segs.append({"object": objects[:1 + i % 2],
                     "scene": np.array([300] if i % 3 else [], np.int32)})
    probe = MemoryProbe(segs, size=size)
    index = ConceptIndex.from_probe(probe)
    maps = rng.normal(size=(n_images, 7, 3, 4)).astype(np.float32)
    maps[:, 6] = np.minimum(maps[:, 6] * 3, 1.0)  # saturated at the threshold below
    thresholds = np.quantile(maps.transpose(1, 0, 2, 3).reshape(7, -1), 0.7, axis=1)
    thresholds = thresholds.astype(np.float32)
    thresholds[6] = 1.0
    expected = reference_tally(maps, thresholds, probe, index)
    concepts = [image_concepts(s, probe.image_level, index, size) for s in segs]
    for compiled in (True, False):
        counts = IoUTally(torch.from_numpy(thresholds), index)
        counts.add_batch(torch.from_numpy(maps[:3]), concepts[:3], size, compiled=compiled)
        counts.add_batch(torch.from_numpy(maps[3:]), concepts[3:], size, compiled=compiled)
        for denominator in ("netdissect", "lite"):
            for ours, theirs in zip(counts.counts(denominator), expected.counts(denominator),
                                    strict=True):
                np.testing.assert_array_equal(ours, theirs)
        assert expected.intersection.sum() > 0
