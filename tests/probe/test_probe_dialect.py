"""NetDissect's Broden dialect, read from a fixture written by hand (tests/support/broden.py), and
probe sets of kind ``broden`` built from it: subsets, copies, and errors that name the probe set,
the file and the row."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from PIL import Image

from lce.errors import LCEError
from lce.params import probe_sets
from lce.probe import open_probe
from lce.probe.broden import BrodenProbe
from lce.probe.cache import build_cache
from lce.probe.sets import KINDS, build_probe_set, check_probe_set
from lce.probe.validate import validate
from tests.support.broden import LABELS, MASK, ROWS, primary_categories, write_netdissect_probe


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return write_netdissect_probe(tmp_path_factory.mktemp("broden") / "broden1_tiny")


def probe_set(source, **settings):
    params = {"probes": {"tiny": {"kind": "broden", "source": str(source), **settings}}}
    return probe_sets(params)["tiny"]


def test_the_reader_reads_every_part_of_the_dialect(source):
    probe = BrodenProbe(source)
    assert probe.categories == ["color", "object", "part", "material", "scene", "texture"]
    assert probe.image_level == {"scene", "texture"}
    assert {n: c.category for n, c in probe.concepts.items()} == primary_categories()
    assert probe.concepts[300].name == "person"  # syns do not leak into the name
    first = probe.segmentation(0)  # ade20k: two part planes, numbers above 255, a scene
    assert first["part"].shape == (2, MASK, MASK)
    np.testing.assert_array_equal(first["part"], np.stack(ROWS[probe.records[0].image][1]["part"]))
    assert set(np.unique(first["object"]).tolist()) == {300, 302}
    assert first["scene"].tolist() == [512]
    assert first["material"].shape == (0, MASK, MASK)  # lacks the category
    dtd = probe.segmentation(3)
    assert dtd["texture"].tolist() == [600, 601]
    assert all(dtd[c].shape[0] == 0 for c in probe.pixel_categories)  # no mask at all
    assert [r.split for r in probe.records] == [split for split, _, _ in ROWS.values()]
    assert (probe.records[0].ih, probe.records[0].sh) == (16, 8)
    assert probe.image(1).shape == (16, 16, 3)  # pascal/ JPEG


def test_validation_and_the_cache_accept_the_dialect(source, tmp_path):
    summary = {s.category: s for s in validate(BrodenProbe(source))}
    assert summary["part"].masks == 3 and summary["texture"].kind == "image"
    cache = open_probe(source, build_cache(source, tmp_path / "cache"))
    reader = BrodenProbe(source)
    for i in range(len(reader)):
        for category, data in reader.segmentation(i).items():
            np.testing.assert_array_equal(cache.segmentation(i)[category], data)
    totals = dict(zip(cache.concept_totals["number"], cache.concept_totals["pixels"],
                      strict=True))
    assert totals[302] == 32  # on the object and a part plane of the same pixels: counted once
    assert totals[601] == MASK * MASK  # an image-level concept covers the whole image


def test_a_broden_probe_set_is_copied_with_its_subfolders_and_row_subset(source, tmp_path):
    out = build_probe_set(probe_set(source, split="val"), tmp_path / "probe")
    copy = BrodenProbe(out)
    expected = [image for image, (split, _, _) in ROWS.items() if split == "val"]
    assert [r.image for r in copy.records] == expected
    assert (out / "images/dtd/banded_0002.jpg").is_file()
    assert not (out / "images/opensurfaces").exists()  # only what the selected rows name
    subset = BrodenProbe(source, split="val")
    for i in range(len(copy)):
        for category, data in subset.segmentation(i).items():
            np.testing.assert_array_equal(copy.segmentation(i)[category], data)
    assert copy.concepts == subset.concepts


def test_a_seeded_sample_and_a_category_subset(source, tmp_path):
    sampled = probe_set(source, sample=3, seed=4)
    built = BrodenProbe(build_probe_set(sampled, tmp_path / "a"))
    again = BrodenProbe(build_probe_set(sampled, tmp_path / "b"))
    assert len(built) == 3 and [r.image for r in built.records] == [r.image for r in
                                                                    again.records]
    objects = probe_set(source, categories=["object", "scene"])
    out = build_probe_set(objects, tmp_path / "c")
    probe = open_probe(out, **KINDS["broden"].subset(objects.settings))
    assert probe.categories == ["object", "scene"]
    # door (302) stays an object concept: its part coverage is smaller, whatever is selected
    assert {n: c.category for n, c in probe.concepts.items()} == {
        n: c for n, c in primary_categories().items() if c in ("object", "scene")}
    assert not any(p.name.endswith("_part_1.png") for p in out.rglob("*.png"))


def broken(source, tmp_path, damage):
    copy = tmp_path / "broken"
    shutil.copytree(source, copy)
    damage(copy)
    return copy


def _rewrite_index(root, change):
    path = root / "index.csv"
    rows = list(csv.reader(path.open()))
    change(rows)
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda r: (r / "images/pascal/2008_000001.jpg").unlink(),
     r"probe set tiny: .*index.csv: row 3: image file .*pascal/2008_000001.jpg not found"),
    (lambda r: Image.new("RGB", (4, 4)).save(r / "images/ade20k/ADE_train_00000001_object.png"),
     r"probe set tiny: .*ADE_train_00000001_object.png: mask is 4x4, index.csv row 2 says 8x8"),
    (lambda r: Image.fromarray(np.full((MASK, MASK, 3), [7, 3, 0], np.uint8)).save(
        r / "images/opensurfaces/100_material.png"),
     r"probe set tiny: .*100_material.png: label 775 \(index.csv row 4\) is not in label.csv"),
    (lambda r: _rewrite_index(r, lambda rows: rows[4].__setitem__(-1, "600;999")),
     r"probe set tiny: .*index.csv: row 5: texture label 999 is not in label.csv"),
])
def test_errors_name_the_probe_set_the_file_and_the_row(source, tmp_path, damage, message):
    out = tmp_path / "probe"
    with pytest.raises(LCEError, match=message):
        build_probe_set(probe_set(broken(source, tmp_path, damage)), out)
    assert not out.exists()  # nothing partial


def test_a_category_that_is_no_column_fails_the_params_check(source):
    with pytest.raises(LCEError, match=r"probe set tiny: .*index.csv: no category column "
                                       r"'objects'"):
        check_probe_set(probe_set(source, categories=["objects"]))
    with pytest.raises(LCEError, match=r"probe set tiny: .*index.csv: no row has split 'test'"):
        check_probe_set(probe_set(source, split="test"))
    with pytest.raises(LCEError, match=r"probes.tiny.source: .* is not a directory"):
        check_probe_set(probe_set(source.parent / "absent"))


def test_every_kind_of_params_has_a_builder():
    from lce.params import PROBE_KINDS

    assert set(KINDS) == set(PROBE_KINDS)


def test_labels_above_255_use_the_green_channel(source):
    rgb = np.asarray(Image.open(source / "images/ade20k/ADE_train_00000001_object.png"))
    assert {tuple(p) for p in rgb.reshape(-1, 3).tolist()} == {(300 % 256, 1, 0),
                                                               (302 % 256, 1, 0)}
    assert max(LABELS) > 255


def test_the_cache_is_the_same_bytes_for_any_number_of_workers(source, tmp_path):
    one = build_cache(source, tmp_path / "one", workers=1)
    two = build_cache(source, tmp_path / "two", workers=2)
    files = sorted(p.name for p in one.iterdir())
    assert files == sorted(p.name for p in two.iterdir()) and "planes.npy" in files
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_a_worker_s_error_names_the_file_and_row(source, tmp_path):
    damaged = broken(source, tmp_path, lambda r: (r / "images/dtd/banded_0002.jpg").unlink())
    with pytest.raises(LCEError, match=r"index.csv: row 5: image file .*banded_0002.jpg"):
        build_cache(damaged, tmp_path / "cache", workers=2)
    assert not (tmp_path / "cache").exists()
