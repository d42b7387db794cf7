"""The dataset-side cache serves exactly what decoding the PNGs gives, and its totals are right."""

import shutil

import numpy as np
import pytest

from lce.errors import LCEError
from lce.probe import open_probe
from lce.probe.broden import BrodenProbe
from lce.probe.cache import ProbeCache, build_cache


@pytest.fixture(scope="module")
def cache_dir(tiny_probe, tmp_path_factory):
    return build_cache(tiny_probe, tmp_path_factory.mktemp("cache") / "cache")


def direct_totals(probe):
    """Per concept (pixels, images) by brute force: one boolean union mask per concept."""
    pixels, images = {}, {}
    for i, rec in enumerate(probe.records):
        seg = probe.segmentation(i)
        for number in probe.concepts:
            mask = np.zeros((rec.sh, rec.sw), bool)
            for category, data in seg.items():
                if category in probe.image_level:
                    mask |= number in data.tolist()
                else:
                    mask |= (data == number).any(axis=0)
            pixels[number] = pixels.get(number, 0) + int(mask.sum())
            images[number] = images.get(number, 0) + int(mask.any())
    return pixels, images


def test_cached_segmentation_equals_decoded_pngs(tiny_probe, cache_dir):
    probe, cached = BrodenProbe(tiny_probe), open_probe(tiny_probe, cache_dir)
    assert isinstance(cached, ProbeCache)
    assert (len(cached), cached.categories, cached.image_level, cached.pixel_categories) == (
        len(probe), probe.categories, probe.image_level, probe.pixel_categories)
    assert cached.concepts == probe.concepts
    assert [r.row for r in cached.records] == [r.row for r in probe.records]
    for i in range(len(probe)):
        want, got = probe.segmentation(i), cached.segmentation(i)
        assert list(got) == list(want)
        for category in want:
            assert got[category].dtype == np.int32
            np.testing.assert_array_equal(got[category], want[category])
        np.testing.assert_array_equal(cached.image(i), probe.image(i))


def test_planes_are_compact_and_memory_mapped(cache_dir, tiny_probe):
    cached = open_probe(tiny_probe, cache_dir)
    assert cached.planes.dtype == np.uint16
    assert isinstance(cached.planes, np.memmap)
    view = cached.planes_of(0, "object")
    assert view.dtype == np.uint16 and view.shape[1:] == (32, 32)
    assert int(cached.planes.max()) > 255  # material labels need the green channel


def test_concept_totals_and_presence_equal_a_direct_computation(tiny_probe, cache_dir):
    probe, cached = BrodenProbe(tiny_probe), open_probe(tiny_probe, cache_dir)
    pixels, images = direct_totals(probe)
    totals = cached.concept_totals.set_index("number")
    assert sorted(totals.index) == sorted(probe.concepts)
    for number in probe.concepts:
        assert totals.loc[number, "pixels"] == pixels[number], number
        assert totals.loc[number, "images"] == images[number], number
    for i in range(len(probe)):
        seg = probe.segmentation(i)
        want = [bool(seg[c].size and seg[c].any()) for c in probe.categories]
        assert cached.presence[i].tolist() == want
    assert not cached.presence.all()  # some images lack some category


def test_subsets_of_a_cache_match_subsets_of_the_probe(tiny_probe, cache_dir):
    subset = {"sample": 5, "seed": 2, "categories": ["part", "scene"]}
    probe, cached = BrodenProbe(tiny_probe, **subset), open_probe(tiny_probe, cache_dir, **subset)
    assert [r.row for r in cached.records] == [r.row for r in probe.records]
    for i in range(len(probe)):
        want, got = probe.segmentation(i), cached.segmentation(i)
        assert list(got) == ["part", "scene"]
        for category in want:
            np.testing.assert_array_equal(got[category], want[category])
    pixels, images = direct_totals(probe)
    totals = cached.concept_totals.set_index("number")
    assert {n: totals.loc[n, "pixels"] for n in probe.concepts} == pixels
    assert cached.presence.shape == (5, 2)


def test_cache_is_byte_identical_when_rebuilt(tiny_probe, cache_dir, tmp_path):
    again = build_cache(tiny_probe, tmp_path / "again")
    for path in sorted(cache_dir.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_cache_of_another_probe_set_is_refused(tiny_probe, cache_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_probe, other)
    (other / "index.csv").write_text((other / "index.csv").read_text().replace(",val,", ",train,"))
    with pytest.raises(LCEError, match="cache was built from another probe set"):
        open_probe(other, cache_dir)
    with pytest.raises(LCEError, match="meta.json: file not found"):
        open_probe(tiny_probe, tmp_path)


def test_building_a_cache_validates_the_probe(tiny_probe, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_probe, broken)
    (broken / "images/synthetic/000003.png").unlink()
    with pytest.raises(LCEError, match=r"row 5: image file .*not found"):
        build_cache(broken, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # no partial output
