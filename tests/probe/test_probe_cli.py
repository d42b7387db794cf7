"""`lce probe stats | cache | preview` as a user runs them."""

import csv
import io

from PIL import Image

from lce.probe.broden import BrodenProbe
from tests.support.cli import run_lce


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_stats_per_category_and_per_concept_with_and_without_cache(tiny_probe, tmp_path):
    per_category = run_lce("probe", "stats", str(tiny_probe), "-f", "csv")
    assert per_category.returncode == 0, per_category.stderr
    table = {r["category"]: r for r in rows(per_category.stdout)}
    assert list(table) == ["color", "object", "part", "material", "scene", "texture"]
    assert float(table["scene"]["pixel_frequency"]) == 1.0  # one scene per image, whole image
    assert table["scene"]["images"] == "12" and table["part"]["kind"] == "pixel"

    per_concept = run_lce("probe", "stats", str(tiny_probe), "--concepts", "-f", "csv")
    concepts = rows(per_concept.stdout)
    assert len(concepts) == len(BrodenProbe(tiny_probe).concepts)
    scene_images = sum(int(r["images"]) for r in concepts if r["category"] == "scene")
    assert scene_images == 12

    cache = tmp_path / "cache"
    built = run_lce("probe", "cache", str(tiny_probe), str(cache))
    assert built.returncode == 0, built.stderr
    cached = run_lce("probe", "stats", str(tiny_probe), "--concepts", "-f", "csv", "--cache",
                     str(cache))
    assert cached.stdout == per_concept.stdout


def test_stats_of_a_subset_and_bad_input(tiny_probe):
    subset = run_lce("probe", "stats", str(tiny_probe), "--limit", "4", "-c", "object", "-f",
                     "csv")
    assert [r["category"] for r in rows(subset.stdout)] == ["object"]
    missing = run_lce("probe", "stats", str(tiny_probe / "nowhere"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"Error: {tiny_probe / 'nowhere'}: probe directory not found"


def test_preview_draws_images_and_masks(tiny_probe, tmp_path):
    out = tmp_path / "preview.png"
    result = run_lce("probe", "preview", str(tiny_probe), "-o", str(out), "-n", "3")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as im:
        assert im.size == (64 * 5, (64 + 14) * 3 + 14)  # image + 4 pixel categories per row
