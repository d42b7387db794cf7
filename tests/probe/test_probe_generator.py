"""The synthetic generator: the concepts it promises, files derived from its masks, subsets,
and the labelled training split."""

from collections import Counter

import numpy as np
import pytest

from lce.errors import LCEError
from lce.probe.broden import BrodenProbe, _read_csv
from lce.probe.synthetic import (
    SyntheticOptions,
    concept_table,
    generate,
    generate_training_split,
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen") / "probe"
    generate(root, SyntheticOptions(n_images=30, image_size=64, seed=7, train_fraction=0.5))
    return BrodenProbe(root)


def test_concept_inventory_meets_the_issue():
    table = concept_table()
    assert list(table) == ["color", "object", "part", "material", "scene", "texture"]
    assert sum(len(names) for names in table.values()) >= 60
    assert {"bear", "zebra", "circle"} <= set(table["object"])
    assert {"brick", "grass", "gravel", "stripes", "dots", "checker", "noise"} <= set(
        table["material"])
    numbers = [n for names in table.values() for n in names.values()]
    assert len(set(numbers)) == len(numbers) and 0 not in numbers
    assert min(table["material"].values()) > 255  # pixel masks exercise the green channel


def test_probe_has_pixel_labels_above_255_and_missing_categories(probe):
    pixel_max = max(int(probe.segmentation(i)[c].max(initial=0))
                    for i in range(len(probe)) for c in probe.pixel_categories)
    assert pixel_max > 255
    assert any(not rec.cells[c] for rec in probe.records for c in probe.categories)
    assert max(len(rec.cells["part"]) for rec in probe.records) == 3  # shape parts' own plane


def test_parts_lie_inside_their_object(probe):
    table = concept_table()
    object_of = {number: name.split("-")[0] for name, number in table["part"].items()}
    objects = {number: name for name, number in table["object"].items()}
    for i in range(len(probe)):
        seg = probe.segmentation(i)
        for plane in seg["part"]:
            on = plane > 0
            owners = [objects[n] for n in seg["object"][0][on].tolist()]
            assert owners == [object_of[n] for n in plane[on].tolist()]


def test_label_files_are_derived_from_the_masks(probe):
    images, coverage = Counter(), Counter()
    for i, rec in enumerate(probe.records):
        seg = probe.segmentation(i)
        for category, data in seg.items():
            numbers = set(data.ravel().tolist()) - {0}
            for n in numbers:
                images[(category, n)] += 1
                if category in probe.image_level:
                    coverage[(category, n)] += 1.0
                else:
                    coverage[(category, n)] += float((data == n).sum()) / (rec.sh * rec.sw)
    for category in probe.categories:
        rows = _read_csv(probe.root / f"c_{category}.csv", ["number", "frequency", "coverage"])
        assert {int(r["number"]) for r in rows} == {n for c, n in images if c == category}
        for r in rows:
            key = (category, int(r["number"]))
            assert int(r["frequency"]) == images[key]
            assert float(r["coverage"]) == pytest.approx(coverage[key], abs=1e-4)


def test_split_column_follows_train_fraction(probe):
    assert {rec.split for rec in probe.records} == {"train", "val"}


def test_concept_subsets_restrict_what_is_drawn(tmp_path):
    config = SyntheticOptions(n_images=8, image_size=64, seed=1, objects=("cat", "ring"),
                             materials=("brick",), scenes=("indoor",),
                             categories=("object", "material", "scene"))
    probe = BrodenProbe(generate(tmp_path / "p", config))
    assert probe.categories == ["object", "material", "scene"]
    names = {c.category: set() for c in probe.concepts.values()}
    for concept in probe.concepts.values():
        names[concept.category].add(concept.name)
    assert names["object"] <= {"cat", "ring"}
    assert names["material"] == {"brick"} and names["scene"] == {"indoor"}


def test_unknown_subset_names_are_rejected(tmp_path):
    with pytest.raises(LCEError, match=r"probe.objects: unknown name 'unicorn'"):
        generate(tmp_path / "p", SyntheticOptions(objects=("unicorn",)))


def test_training_split_labels_and_artifact_round_trip(tmp_path):
    config = SyntheticOptions(n_images=10, image_size=64, seed=4)
    split = generate_training_split(config)
    assert split.images.shape == (10, 64, 64, 3) and split.images.dtype == np.uint8
    assert split.scene.dtype == np.int64 and split.object.dtype == np.int64
    assert set(split.scene.tolist()) <= set(range(len(split.scene_names)))
    assert set(split.object.tolist()) <= set(range(-1, len(split.object_names)))
    again = generate_training_split(config)
    np.testing.assert_array_equal(again.images, split.images)


def test_params_section_drives_the_generator():
    from lce.params import probe_sets
    from lce.probe.synthetic import config_from_params

    def settings(**values):
        return probe_sets({"probes": {"syn": {"kind": "synthetic", **values}}})["syn"].settings

    params = settings(n_images=5, image_size=64, scenes=["sky"])
    assert config_from_params(params).scenes == ("sky",)
    assert config_from_params(params).categories == ("color", "object", "part", "material",
                                                     "scene", "texture")
    bad = settings(materials=["plastic"])
    with pytest.raises(LCEError, match=r"params.yaml: probes.syn.materials: unknown name "
                                       r"'plastic'"):
        config_from_params(bad, "params.yaml: probes.syn")


def test_generator_defaults_are_the_params_defaults():
    """The generator states no default of its own: a synthetic probe set left at its defaults
    in params.yaml is what SyntheticOptions() generates."""
    import dataclasses

    from lce.params import SyntheticProbeParams

    options, params = SyntheticOptions(), SyntheticProbeParams()
    for field in dataclasses.fields(SyntheticOptions):
        if hasattr(params, field.name) and not isinstance(getattr(params, field.name), tuple):
            assert getattr(options, field.name) == getattr(params, field.name), field.name
