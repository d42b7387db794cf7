"""Reader subsets: split, categories, first rows and seeded samples."""

import pytest

from lce.errors import LCEError
from lce.probe.broden import BrodenProbe
from lce.probe.synthetic import SyntheticConfig, generate


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("subsets") / "probe"
    return generate(root, SyntheticConfig(n_images=16, image_size=32, seed=2, train_fraction=0.5))


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
