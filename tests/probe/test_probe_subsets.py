"""Reader subsets: split, categories, first rows and seeded samples."""

import csv
import shutil

import pytest

from lce.errors import LCEError
from lce.probe.broden import BrodenProbe
from lce.probe.synthetic import SyntheticOptions, generate


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("subsets") / "probe"
    return generate(root, SyntheticOptions(n_images=16, image_size=32, seed=2, train_fraction=0.5))


def test_split_keeps_only_that_split_with_original_rows(probe_dir):
    full = BrodenProbe(probe_dir)
    train = BrodenProbe(probe_dir, split="train")
    assert 0 < len(train) < len(full)
    assert [r.row for r in train.records] == [r.row for r in full.records if r.split == "train"]
    with pytest.raises(LCEError, match=r"index.csv: no row has split 'test'"):
        BrodenProbe(probe_dir, split="test")


def test_category_subset(probe_dir):
    probe = BrodenProbe(probe_dir, categories=["texture", "object"])
    assert probe.categories == ["object", "texture"]  # index.csv order
    assert probe.image_level == {"texture"}
    assert list(probe.segmentation(0)) == ["object", "texture"]
    assert {c.category for c in probe.concepts.values()} == {"object", "texture"}
    with pytest.raises(LCEError, match=r"index.csv: no category column 'shape'"):
        BrodenProbe(probe_dir, categories=["shape"])


def test_first_rows_and_seeded_sample(probe_dir):
    assert [r.row for r in BrodenProbe(probe_dir, limit=3).records] == [2, 3, 4]
    a = [r.row for r in BrodenProbe(probe_dir, sample=5, seed=1).records]
    assert a == sorted(a) and len(set(a)) == 5
    assert a == [r.row for r in BrodenProbe(probe_dir, sample=5, seed=1).records]
    assert a != [r.row for r in BrodenProbe(probe_dir, sample=5, seed=2).records]
    train = BrodenProbe(probe_dir, split="train", sample=2)
    assert all(r.split == "train" for r in train.records) and len(train) == 2
    with pytest.raises(LCEError, match="either the first N rows"):
        BrodenProbe(probe_dir, limit=2, sample=2)


def test_a_sample_larger_than_the_rows_is_an_error(probe_dir):
    assert len(BrodenProbe(probe_dir, sample=16)) == 16  # every row is a sample of them all
    with pytest.raises(LCEError, match=r"index.csv: a sample of 17 rows .* only 16 rows"):
        BrodenProbe(probe_dir, sample=17)
    train = len(BrodenProbe(probe_dir, split="train"))
    with pytest.raises(LCEError, match=rf"a sample of {train + 1} rows .* only {train} rows"):
        BrodenProbe(probe_dir, split="train", sample=train + 1)


def _edit_csv(path, edit):
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(edit(rows))


def test_primary_category_is_decided_before_the_category_subset(probe_dir, tmp_path):
    """A material label that object masks also cover a little stays material: an object-only
    subset drops it instead of promoting its secondary category."""
    root = shutil.copytree(probe_dir, tmp_path / "probe")
    material = next(c for c in BrodenProbe(root).concepts.values() if c.category == "material")
    _edit_csv(root / "c_object.csv", lambda rows: [*rows, {
        "code": len(rows) + 1, "number": material.number, "name": material.name,
        "frequency": 1, "coverage": 1e-6}])
    assert BrodenProbe(root).concepts[material.number].category == "material"
    assert material.number not in BrodenProbe(root, categories=["object"]).concepts
    assert material.number in BrodenProbe(root, categories=["material"]).concepts


def test_label_in_no_c_file_takes_the_largest_listed_category(probe_dir, tmp_path):
    root = shutil.copytree(probe_dir, tmp_path / "probe")
    concept = next(c for c in BrodenProbe(root).concepts.values() if c.category == "object")
    _edit_csv(root / "c_object.csv",
              lambda rows: [r for r in rows if int(r["number"]) != concept.number])
    _edit_csv(root / "label.csv", lambda rows: [
        r | {"category": "object(3);material(36)"} if int(r["number"]) == concept.number else r
        for r in rows])
    assert BrodenProbe(root).concepts[concept.number].category == "material"
