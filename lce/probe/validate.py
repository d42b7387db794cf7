"""Whole-probe validation: every table and every file, before any model is dissected.

The reader checks what it touches (a mask when it decodes it); validation touches everything, so a
broken probe set fails in seconds with one line naming the file and row, not an hour into a
dissection. The checks:
table headers; each ``label.csv`` number once (a repeated number would silently rename a
label); every ``category.csv`` row a column of ``index.csv`` (else its concepts vanish);
``category.csv`` rows consistent with the ``c_*`` files (``first <= last``, ``[first, last]``
spanning the category's label numbers -- or its local codes, the other reading of that range --,
``count`` = rows, numbers known to ``label.csv``); every image present and ``ih x iw``; every
mask present, ``sh x sw`` and holding only numbers of ``label.csv``; image-level numbers known
to ``label.csv``; and every label number found in a category's column a member of that category
-- listed in its ``c_<category>.csv`` or under it in ``label.csv``'s category cell --, so that an
object mask filed in the ``color`` column is an error, not object pixels dropped from ``color``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lce.errors import LCEError
from lce.probe.broden import (
    CATEGORY_COLUMNS,
    CATEGORY_LABEL_COLUMNS,
    BrodenProbe,
    _read_csv,
    _split_cell,
)


@dataclass(frozen=True)
class CategorySummary:
    category: str
    kind: str  # "pixel" or "image"
    concepts: int  # concepts whose primary category this is
    images: int  # images of the selection with a non-empty cell
    masks: int  # mask files of the selection (0 for image-level categories)


def _int(path, n: int, row: dict, key: str) -> int:
    try:
        return int(row[key])
    except (TypeError, ValueError):
        raise LCEError(f"{path}: row {n}: {key} {row[key]!r} is not an integer") from None


def _check_unique_numbers(probe: BrodenProbe) -> None:
    seen: dict[str, int] = {}
    for n, row in enumerate(probe.label_rows, start=2):
        if row["number"] in seen:
            raise LCEError(f"{probe.root / 'label.csv'}: row {n}: number {row['number']} "
                           f"repeats row {seen[row['number']]}",
                           hint="each label needs its own number")
        seen[row["number"]] = n


def check_tables(probe: BrodenProbe) -> None:
    """Check ``label.csv``, ``category.csv`` and the ``c_<category>.csv`` files."""
    _check_unique_numbers(probe)
    known = probe.known_labels
    path = probe.root / "category.csv"
    rows = {row["name"]: (n, row)
            for n, row in enumerate(_read_csv(path, CATEGORY_COLUMNS), start=2)}
    for name, (n, _) in rows.items():
        if name not in probe.all_categories:
            raise LCEError(f"{path}: row {n}: category {name!r} has no column in index.csv",
                           hint="its concepts would vanish: add the column or drop the row")
    for category in probe.categories:
        if category not in rows:
            raise LCEError(f"{path}: no row for category {category!r} of index.csv")
        n, row = rows[category]
        first, last, count = (_int(path, n, row, k) for k in ("first", "last", "count"))
        if count and first > last:
            raise LCEError(f"{path}: row {n}: {category}: first {first} > last {last}")
        c_path = probe.root / f"c_{category}.csv"
        c_rows = _read_csv(c_path, CATEGORY_LABEL_COLUMNS)
        if len(c_rows) != count:
            raise LCEError(f"{path}: row {n}: {category}: count {count} but {c_path.name} has "
                           f"{len(c_rows)} rows")
        numbers = [_int(c_path, m, r, "number") for m, r in enumerate(c_rows, start=2)]
        codes = [_int(c_path, m, r, "code") for m, r in enumerate(c_rows, start=2)]
        # [first, last] spans the category's label numbers (as LCE writes it) or its local codes
        # (1..count): accept either reading, reject a range that covers neither.
        if not (all(first <= x <= last for x in numbers)
                or all(first <= x <= last for x in codes)):
            m, number = next((m, x) for m, x in enumerate(numbers, start=2)
                             if not first <= x <= last)
            raise LCEError(f"{c_path}: row {m}: number {number} outside the range "
                           f"[{first}, {last}] of category.csv row {n}")
        for m, number in enumerate(numbers, start=2):
            if not (0 < number < len(known) and known[number]):
                raise LCEError(f"{c_path}: row {m}: number {number} is not in label.csv")


def category_members(probe: BrodenProbe) -> dict[str, np.ndarray]:
    """Per category, a lookup table over label numbers: True for the numbers its
    ``c_<category>.csv`` lists or ``label.csv`` files under it (``material(36);object(3)``), and
    for 0 (unlabelled)."""
    members = {}
    for category in probe.categories:
        table = np.zeros(1 << 16, dtype=bool)
        table[0] = True
        path = probe.root / f"c_{category}.csv"
        table[[_int(path, m, r, "number")
               for m, r in enumerate(_read_csv(path, CATEGORY_LABEL_COLUMNS), start=2)]] = True
        members[category] = table
    for row in probe.label_rows:
        for part in _split_cell(row["category"]):
            name = part.partition("(")[0].strip()
            if name in members and int(row["number"]) < 1 << 16:
                members[name][int(row["number"])] = True
    return members


def check_members(probe: BrodenProbe, i: int, segmentation: dict[str, np.ndarray],
                  members: dict[str, np.ndarray]) -> None:
    """Check that image i's labels of each category column belong to that category."""
    rec = probe.records[i]
    for category, data in segmentation.items():
        stray = ~members[category][data]
        if not stray.any():
            continue
        number = int(data[stray][0])
        concept = probe.concepts.get(number)
        what = f"label {number}" + (f" ({concept.name}, {concept.category})" if concept else "")
        if category in probe.image_level:
            where = f"{probe.index_path}: row {rec.row}"
        else:
            plane = int(stray.any(axis=(1, 2)).argmax())
            mask = probe.root / "images" / rec.cells[category][plane]
            where = f"{mask} (index.csv row {rec.row})"
        raise LCEError(f"{where}: {what} in the {category} column is not a {category} label "
                       f"(neither c_{category}.csv nor label.csv lists it under {category})",
                       hint="a mask or label filed under the wrong category?")


def check_image(probe: BrodenProbe, i: int) -> None:
    """Check that image i exists and has the size ``index.csv`` gives."""
    rec = probe.records[i]
    path = probe.image_path(i)
    if not path.is_file():
        raise LCEError(f"{probe.index_path}: row {rec.row}: image file {path} not found")
    try:
        with Image.open(path) as im:
            width, height = im.size
    except OSError as exc:
        raise LCEError(f"{path}: unreadable image ({exc})") from None
    if (height, width) != (rec.ih, rec.iw):
        raise LCEError(f"{path}: image is {height}x{width}, index.csv row {rec.row} says "
                       f"{rec.ih}x{rec.iw}")


def validate(probe: BrodenProbe,
             on_image: Callable[[int], None] | None = None) -> list[CategorySummary]:
    """Run every check on ``probe`` (or its subset); raise :class:`LCEError` at the first failure.

    Returns a per-category summary of what was checked. ``on_image(i)`` is called after each image.
    """
    check_tables(probe)
    members = category_members(probe)
    images = dict.fromkeys(probe.categories, 0)
    masks = dict.fromkeys(probe.categories, 0)
    for i, rec in enumerate(probe.records):
        check_image(probe, i)
        # decodes every mask (presence, size and label numbers), then checks the categories
        check_members(probe, i, probe.segmentation(i), members)
        for category in probe.categories:
            cell = rec.cells[category]
            images[category] += bool(cell)
            if category not in probe.image_level:
                masks[category] += len(cell)
        if on_image is not None:
            on_image(i)
    per_category = dict.fromkeys(probe.categories, 0)
    for concept in probe.concepts.values():
        per_category[concept.category] += 1
    return [CategorySummary(c, "image" if c in probe.image_level else "pixel", per_category[c],
                            images[c], masks[c]) for c in probe.categories]
