import numpy as np
import pytest
from PIL import Image

from lce.errors import LCEError
from lce.probe.broden import BrodenProbe, decode_mask, encode_mask
from lce.probe.synthetic import SyntheticOptions, _sample, concept_table, generate


def test_rg_decoding_upcasts_above_255():
    labels = np.array([[0, 1, 255], [256, 300, 65535]])
    rgb = encode_mask(labels)
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(decode_mask(rgb), labels)


def test_generator_reader_round_trip_returns_the_drawn_masks(tmp_path):
    config = SyntheticOptions(n_images=6, image_size=64, seed=11)
    generate(tmp_path / "p", config)
    probe = BrodenProbe(tmp_path / "p")
    table = concept_table()
    assert len(probe) == 6
    assert probe.image_level == {"scene", "texture"}
    for i in range(6):
        drawn = _sample(config, i, table)
        seg = probe.segmentation(i)
        for category in probe.pixel_categories:
            expected = drawn.planes.get(category, [])
            assert seg[category].shape[0] == len(expected)
            for plane, want in zip(seg[category], expected, strict=True):
                np.testing.assert_array_equal(plane, want)
        for category in probe.image_level:
            assert seg[category].tolist() == drawn.image_labels[category]
        np.testing.assert_array_equal(probe.image(i), drawn.image)


def test_generation_is_byte_identical(tmp_path):
    config = SyntheticOptions(n_images=4, image_size=64, seed=5)
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                     if p.is_file())
    assert files_a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*")
                             if p.is_file())
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_label_numbers_above_255_exist_and_label_zero_is_never_a_concept(tiny_probe):
    probe = BrodenProbe(tiny_probe)
    assert 0 not in probe.concepts
    assert max(probe.concepts) > 255


def test_primary_category_comes_from_coverage(tiny_probe):
    probe = BrodenProbe(tiny_probe)
    table = concept_table()
    for category, names in table.items():
        for name, number in names.items():
            if number in probe.concepts:
                assert probe.concepts[number].category == category
                assert probe.concepts[number].name == name


def test_missing_mask_file_names_file_and_row(tmp_path):
    generate(tmp_path / "p", SyntheticOptions(n_images=2, image_size=64))
    (tmp_path / "p/images/synthetic/000001_object_1.png").unlink()
    probe = BrodenProbe(tmp_path / "p")
    with pytest.raises(LCEError, match=r"index.csv: row 3: mask file .*000001_object_1.png"):
        probe.segmentation(1)


def test_mask_size_mismatch_is_reported(tmp_path):
    generate(tmp_path / "p", SyntheticOptions(n_images=1, image_size=64))
    path = tmp_path / "p/images/synthetic/000000_object_1.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(path)
    with pytest.raises(LCEError, match="mask is 10x10, index.csv row 2 says 32x32"):
        BrodenProbe(tmp_path / "p").segmentation(0)
