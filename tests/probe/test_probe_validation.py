"""Every validation error, each triggered by a deliberately broken copy of a valid probe set."""

import csv
import shutil

import numpy as np
import pytest
from PIL import Image

from lce.errors import LCEError
from lce.probe.broden import BrodenProbe, encode_mask
from lce.probe.validate import validate
from tests.support.cli import run_lce


@pytest.fixture
def probe_copy(tiny_probe, tmp_path):
    root = tmp_path / "probe"
    shutil.copytree(tiny_probe, root)
    return root


def rewrite_csv(path, edit):
    """Rewrite a CSV file through ``edit(rows) -> rows`` (rows include the header)."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(edit(rows))


def first_mask(root, category="object"):
    probe = BrodenProbe(root)
    for i, rec in enumerate(probe.records):
        if rec.cells[category]:
            return i, rec, root / "images" / rec.cells[category][0]
    raise AssertionError("no mask")


def check_fails(root, pattern):
    with pytest.raises(LCEError, match=pattern):
        validate(BrodenProbe(root))


def test_valid_probe_passes_and_summarizes(tiny_probe):
    probe = BrodenProbe(tiny_probe)
    summary = {s.category: s for s in validate(probe)}
    assert list(summary) == ["color", "object", "part", "material", "scene", "texture"]
    assert summary["scene"].kind == "image" and summary["scene"].masks == 0
    assert summary["object"].images == len(probe)
    assert summary["part"].masks >= 2 * summary["part"].images  # two or three part planes
    assert sum(s.concepts for s in summary.values()) == len(probe.concepts)


def test_missing_image_file(probe_copy):
    (probe_copy / "images/synthetic/000004.png").unlink()
    check_fails(probe_copy, r"index.csv: row 6: image file .*000004.png not found")


def test_image_size_mismatch(probe_copy):
    Image.new("RGB", (10, 12)).save(probe_copy / "images/synthetic/000002.png")
    check_fails(probe_copy, r"000002.png: image is 12x10, index.csv row 4 says 64x64")


def test_missing_mask_file(probe_copy):
    _, rec, mask = first_mask(probe_copy, "part")
    mask.unlink()
    check_fails(probe_copy, rf"index.csv: row {rec.row}: mask file .*{mask.name} not found")


def test_mask_size_mismatch(probe_copy):
    _, rec, mask = first_mask(probe_copy, "material")
    Image.fromarray(np.zeros((16, 32, 3), np.uint8)).save(mask)
    check_fails(probe_copy, rf"{mask.name}: mask is 16x32, index.csv row {rec.row} says 32x32")


def test_corrupt_mask_file(probe_copy):
    _, _, mask = first_mask(probe_copy, "color")
    mask.write_bytes(b"not a png")
    check_fails(probe_copy, rf"{mask.name}: unreadable image")


def test_label_absent_from_label_csv_in_a_mask(probe_copy):
    _, rec, mask = first_mask(probe_copy, "object")
    labels = np.zeros((32, 32), np.int64)
    labels[3, 4] = 1000  # above 255: needs the green channel
    Image.fromarray(encode_mask(labels)).save(mask)
    check_fails(probe_copy, rf"{mask.name}: label 1000 \(index.csv row {rec.row}\) is not in "
                            r"label.csv")


def test_label_absent_from_label_csv_in_an_image_level_cell(probe_copy):
    def edit(rows):
        rows[3][rows[0].index("scene")] = "999"
        return rows

    rewrite_csv(probe_copy / "index.csv", edit)
    check_fails(probe_copy, r"index.csv: row 4: scene label 999 is not in label.csv")


@pytest.mark.parametrize("name", ["index.csv", "label.csv", "category.csv", "c_part.csv"])
def test_bad_header(probe_copy, name):
    def edit(rows):
        rows[0][1] = "nonsense"
        return rows

    rewrite_csv(probe_copy / name, edit)
    check_fails(probe_copy, rf"{name}: bad header, missing column")


def test_category_first_after_last(probe_copy):
    def edit(rows):
        row = next(r for r in rows if r[0] == "object")
        row[1], row[2] = row[2], row[1]
        return rows

    rewrite_csv(probe_copy / "category.csv", edit)
    check_fails(probe_copy, r"category.csv: row 3: object: first \d+ > last \d+")


def test_category_range_not_covering_its_labels(probe_copy):
    def edit(rows):
        row = next(r for r in rows if r[0] == "color")
        row[2] = str(int(row[2]) - 1)  # `last` one below the highest colour label
        return rows

    rewrite_csv(probe_copy / "category.csv", edit)
    check_fails(probe_copy, r"c_color.csv: row \d+: number \d+ outside the range \[\d+, \d+\] "
                            r"of category.csv row 2")


def test_category_count_disagreeing_with_c_file(probe_copy):
    def edit(rows):
        row = next(r for r in rows if r[0] == "texture")
        row[3] = str(int(row[3]) + 1)
        return rows

    rewrite_csv(probe_copy / "category.csv", edit)
    check_fails(probe_copy, r"category.csv: row 7: texture: count \d+ but c_texture.csv has")


def test_cli_validate_reports_one_line_and_exit_code_1(probe_copy, tiny_probe):
    ok = run_lce("probe", "validate", str(tiny_probe), "-f", "csv")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == "category,kind,concepts,images,masks"
    assert "valid (12 images" in ok.stderr

    (probe_copy / "images/synthetic/000001.png").unlink()
    bad = run_lce("probe", "validate", str(probe_copy))
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: ") and "row 3: image file" in bad.stderr
    assert "Traceback" not in bad.stderr


# Issue 19 item 8: three mistakes that used to pass as "valid".

def test_duplicate_label_number(probe_copy):
    def edit(rows):
        rows[3][0] = rows[2][0]  # label.csv row 4 takes row 3's number
        return rows

    rewrite_csv(probe_copy / "label.csv", edit)
    check_fails(probe_copy, r"label.csv: row 4: number \d+ repeats row 3")


def test_object_mask_listed_in_the_color_column(probe_copy):
    from lce.probe.cache import build_cache

    _, rec, mask = first_mask(probe_copy, "object")

    def edit(rows):
        header, row = rows[0], rows[rec.row - 1]
        row[header.index("color")] = row[header.index("object")]
        return rows

    rewrite_csv(probe_copy / "index.csv", edit)
    pattern = (rf"{mask.name} \(index.csv row {rec.row}\): label \d+ \(\w+, object\) in the color "
               r"column is not a color label")
    check_fails(probe_copy, pattern)
    with pytest.raises(LCEError, match=pattern):
        build_cache(probe_copy, probe_copy.parent / "cache")


def test_scene_label_listed_in_the_texture_column(probe_copy):
    def edit(rows):
        header, row = rows[0], rows[3]
        row[header.index("texture")] = row[header.index("scene")]
        return rows

    rewrite_csv(probe_copy / "index.csv", edit)
    check_fails(probe_copy, r"index.csv: row 4: label \d+ \(\w+, scene\) in the texture column")


def test_category_without_an_index_column(probe_copy):
    def edit(rows):
        drop = rows[0].index("texture")
        return [row[:drop] + row[drop + 1:] for row in rows]

    rewrite_csv(probe_copy / "index.csv", edit)
    check_fails(probe_copy, r"category.csv: row 7: category 'texture' has no column in index.csv")


def test_cli_names_the_file_and_row_of_a_misfiled_mask(probe_copy):
    def edit(rows):
        header = rows[0]
        rows[1][header.index("color")] = rows[1][header.index("object")]
        return rows

    rewrite_csv(probe_copy / "index.csv", edit)
    bad = run_lce("probe", "validate", str(probe_copy))
    assert bad.returncode == 1 and "valid" not in bad.stderr.split("Error:")[0]
    first = bad.stderr.splitlines()[0]
    assert first.startswith("Error: ") and "(index.csv row 2)" in first and "color" in first
