"""Write a Broden-format directory from images and their label planes.

The label statistics (``frequency``, ``coverage``, the ``category`` cell of ``label.csv``, the
``c_<category>.csv`` files and ``category.csv``) are derived from the masks actually written, so a
generated probe set is self-consistent by construction. Files are written into a temporary sibling
directory that is renamed into place at the end: a crash never leaves a half-written probe set.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from lce.io import atomic_directory
from lce.probe.broden import INDEX_FIXED_COLUMNS, encode_mask


@dataclass
class ProbeSample:
    """One image and its labels: pixel categories as lists of planes, image-level as numbers."""

    image: np.ndarray  # (H, W, 3) uint8
    split: str
    planes: dict[str, list[np.ndarray]] = field(default_factory=dict)
    image_labels: dict[str, list[int]] = field(default_factory=dict)


def _write_csv(path: Path, header: list[str], rows: Iterable[Iterable]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG", optimize=False, compress_level=6)


def write_broden(
    root: str | Path,
    samples: Iterable[ProbeSample],
    label_names: dict[int, str],
    pixel_categories: list[str],
    image_categories: list[str],
    notes: dict[str, str] | None = None,
) -> Path:
    """Write ``samples`` as a Broden directory at ``root`` (replacing it atomically); ``notes``
    are small files written beside the tables (file name -> text: a segmenter-labelled set
    records how it was labelled, :mod:`lce.segment.probe`)."""
    with atomic_directory(root) as tmp:
        _write_tables(tmp, samples, label_names, pixel_categories, image_categories)
        for name, text in (notes or {}).items():
            (tmp / name).write_text(text)
    return Path(root)


def _write_tables(tmp: Path, samples: Iterable[ProbeSample], label_names: dict[int, str],
                  pixel_categories: list[str], image_categories: list[str]) -> None:
    (tmp / "images").mkdir()
    categories = pixel_categories + image_categories
    # per (category, label): images containing it, and summed pixel fraction (coverage)
    freq: dict[tuple[str, int], int] = defaultdict(int)
    cover: dict[tuple[str, int], float] = defaultdict(float)
    cat_images: dict[str, int] = defaultdict(int)
    index_rows = []
    for i, sample in enumerate(samples):
        ih, iw = sample.image.shape[:2]
        name = f"synthetic/{i:06d}"
        _png(tmp / "images" / f"{name}.png", sample.image)
        cells = []
        sh = sw = None
        for category in pixel_categories:
            paths = []
            present: set[int] = set()
            for k, plane in enumerate(sample.planes.get(category, [])):
                sh, sw = plane.shape
                rel = f"{name}_{category}_{k + 1}.png"
                _png(tmp / "images" / rel, encode_mask(plane))
                paths.append(rel)
                numbers, counts = np.unique(plane[plane > 0], return_counts=True)
                for number, count in zip(numbers.tolist(), counts.tolist(), strict=True):
                    present.add(number)
                    cover[(category, number)] += count / plane.size
            for number in present:
                freq[(category, number)] += 1
            cat_images[category] += bool(present)
            cells.append(";".join(paths))
        for category in image_categories:
            numbers = sorted(set(sample.image_labels.get(category, [])))
            for number in numbers:
                freq[(category, number)] += 1
                cover[(category, number)] += 1.0
            cat_images[category] += bool(numbers)
            cells.append(";".join(str(n) for n in numbers))
        if sh is None:
            sh, sw = ih // 2, iw // 2
        index_rows.append([f"{name}.png", sample.split, ih, iw, sh, sw, *cells])
    _write_csv(tmp / "index.csv", INDEX_FIXED_COLUMNS + categories, index_rows)

    by_label: dict[int, list[str]] = defaultdict(list)
    for category, number in freq:
        by_label[number].append(category)
    label_rows = []
    for number in sorted(by_label):
        cats = sorted(by_label[number], key=lambda c: (-cover[(c, number)], c))
        total_freq = sum(freq[(c, number)] for c in cats)
        total_cover = sum(cover[(c, number)] for c in cats)
        cell = ";".join(f"{c}({freq[(c, number)]})" for c in cats)
        label_rows.append(
            [number, label_names[number], cell, total_freq, f"{total_cover:.4f}", ""]
        )
    _write_csv(tmp / "label.csv", ["number", "name", "category", "frequency", "coverage", "syns"],
               label_rows)

    category_rows = []
    for category in categories:
        numbers = sorted(n for c, n in freq if c == category)
        rows = [[code, n, label_names[n], freq[(category, n)], f"{cover[(category, n)]:.4f}"]
                for code, n in enumerate(numbers, start=1)]
        _write_csv(tmp / f"c_{category}.csv", ["code", "number", "name", "frequency", "coverage"],
                   rows)
        first, last = (numbers[0], numbers[-1]) if numbers else (0, 0)
        category_rows.append([category, first, last, len(numbers), cat_images[category]])
    _write_csv(tmp / "category.csv", ["name", "first", "last", "count", "frequency"],
               category_rows)
