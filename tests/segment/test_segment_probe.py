"""A segmenter-labelled probe set: an image folder + a (random, width-reduced) netpqc in the
published layout give a Broden-format directory that the reader and validator accept."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from lce.errors import LCEError
from lce.probe.broden import BrodenProbe
from lce.probe.validate import validate
from lce.segment.probe import SegmentSettings, label_image_folder, preprocess
from lce.segment.segmenters import load_segmenter
from tests.support.segment import TEST_SCALE, write_random_netpqc


def write_image_folder(root, n=3, seed=0):
    """An ImageFolder (class subfolders) of ``n`` random images of different sizes."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / ("cls_a" if i % 2 else "cls_b")
        folder.mkdir(parents=True, exist_ok=True)
        size = (300 + 20 * i, 260)
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
            folder / f"img{i}.jpg")
    return root


@pytest.fixture(scope="module")
def netpqc(tmp_path_factory):
    return load_segmenter("netpqc", write_random_netpqc(tmp_path_factory.mktemp("seg")),
                          scale=TEST_SCALE)


def test_preprocess_is_resize_256_then_centre_crop_224(tmp_path):
    img = np.zeros((100, 50, 3), dtype=np.uint8)
    img[:, 25:] = 255
    Image.fromarray(img).save(tmp_path / "a.png")
    out = preprocess(tmp_path / "a.png", SegmentSettings())
    assert out.shape == (224, 224, 3)
    # resized to 256 wide the edge sits at column 128, i.e. 128 - 16 = 112 after the crop
    assert out[0, 100, 0] == 0 and out[0, 120, 0] == 255


def test_label_image_folder_writes_a_valid_broden_probe(tmp_path, netpqc):
    images = write_image_folder(tmp_path / "images")
    seen = []
    out = label_image_folder(images, tmp_path / "probe", netpqc, SegmentSettings(batch_size=2),
                             on_image=seen.append)
    assert len(seen) == 3
    probe = BrodenProbe(out)
    assert len(probe) == 3 and probe.categories == ["object", "part", "material", "color"]
    rec = probe.records[0]
    assert (rec.ih, rec.iw, rec.sh, rec.sw) == (224, 224, 56, 56)
    assert len(rec.cells["part"]) == 3 and len(rec.cells["object"]) == 1  # part, t/b, l/r
    validate(probe)
    names = {c.name: c.category for c in probe.concepts.values()}
    assert 0 not in probe.concepts and "-" not in names
    assert all(names[n] == "part" for n in names if n.endswith(("-t", "-l", "-b", "-r")))
    assert set(names.values()) <= {"object", "part", "material", "color"}
    # the probe's images are the crops the segmenter saw
    assert json.loads((out / "labeller.json").read_text()) == {"images": "images",
                                                                "labeller": "netpqc"}
    first = sorted(images.rglob("*.jpg"))[0]
    assert (probe.image(0) == preprocess(first, SegmentSettings())).all()


def test_label_image_folder_refuses_to_overwrite_its_input(tmp_path, netpqc):
    images = write_image_folder(tmp_path / "images", n=1)
    with pytest.raises(LCEError, match="holds the input"):
        label_image_folder(images / "cls_b", images, netpqc)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LCEError, match="no images"):
        label_image_folder(tmp_path / "empty", tmp_path / "out", netpqc)
    assert not (tmp_path / "out").exists()
