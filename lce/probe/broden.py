"""Reader for Broden-format probe sets (NetDissect's dataset layout).

A Broden directory holds ``index.csv`` (one row per image), ``category.csv``, ``label.csv``,
``c_<category>.csv`` and the images and masks under ``images/``. Each index cell of a category is
empty, a ``;``-list of PNG mask paths (pixel-level categories: object, part, material, color) or a
``;``-list of decimal label numbers (image-level categories: scene, texture). A mask pixel's label
is ``R + 256 * G`` -- decoded after an up-cast, because ``uint8`` arithmetic would wrap above 255.

The reader returns, per image, the label *planes* of every category at mask resolution; the
dissection engine never needs to know whether they came from PNGs or from a cache.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from lce.errors import LCEError

INDEX_FIXED_COLUMNS = ["image", "split", "ih", "iw", "sh", "sw"]
LABEL_COLUMNS = ["number", "name", "category", "frequency", "coverage", "syns"]
CATEGORY_COLUMNS = ["name", "first", "last", "count", "frequency"]
CATEGORY_LABEL_COLUMNS = ["code", "number", "name", "frequency", "coverage"]


@dataclass(frozen=True)
class Concept:
    """A labelled concept: its global label number, name and primary category."""

    number: int
    name: str
    category: str


@dataclass(frozen=True)
class ImageRecord:
    """One row of ``index.csv``: where the image is and what each category cell holds."""

    row: int
    image: str
    split: str
    ih: int
    iw: int
    sh: int
    sw: int
    cells: dict[str, tuple[str, ...]]


def decode_mask(rgb: np.ndarray) -> np.ndarray:
    """Decode a Broden mask image (H, W, 3 uint8) to label numbers ``R + 256 * G`` (int32)."""
    rgb = np.asarray(rgb)
    return rgb[..., 0].astype(np.int32) + 256 * rgb[..., 1].astype(np.int32)


def encode_mask(labels: np.ndarray) -> np.ndarray:
    """Encode label numbers (< 65536) as a Broden RGB mask image (H, W, 3 uint8)."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 0xFFFF:
        raise ValueError("Broden masks hold label numbers in [0, 65535]")
    rgb = np.zeros(labels.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = labels % 256
    rgb[..., 1] = labels // 256
    return rgb


def _read_csv(path: Path, expected: list[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise LCEError(f"{path}: file not found")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in expected if c not in header]
        if missing:
            raise LCEError(f"{path}: bad header, missing column(s) {', '.join(missing)}")
        return list(reader)


def _split_cell(cell: str | None) -> tuple[str, ...]:
    return tuple(part for part in (cell or "").split(";") if part)


def _read_rgb(path: Path) -> np.ndarray:
    """An image file as (H, W, 3) uint8; a corrupt file is an input error, not a crash."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except OSError as exc:
        raise LCEError(f"{path}: unreadable image ({exc})") from None


def _select_categories(index_path: Path, available: list[str],
                       wanted: list[str] | tuple[str, ...] | None) -> list[str]:
    if wanted is None:
        return available
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise LCEError(f"{index_path}: no category column {unknown[0]!r}",
                       hint=f"categories: {', '.join(available)}")
    return [c for c in available if c in set(wanted)]


def _select_rows(records: list[ImageRecord], limit: int | None, sample: int | None,
                 seed: int, where: Path) -> list[ImageRecord]:
    if limit is not None and sample is not None:
        raise LCEError("choose either the first N rows (limit) or a sample, not both")
    count = limit if limit is not None else sample
    if count is None:
        return records
    if count < 1:
        raise LCEError(f"the number of rows to select must be at least 1, got {count}")
    if limit is not None:
        return records[:count]
    if count > len(records):
        raise LCEError(f"{where}: a sample of {count} rows was asked for, but only "
                       f"{len(records)} rows are there to sample from")
    keep = np.random.default_rng(seed).choice(len(records), size=count, replace=False)
    return [records[k] for k in sorted(keep.tolist())]


# Broden's image-level categories; used when no index cell tells (every cell empty).
IMAGE_LEVEL_CATEGORIES = {"scene", "texture"}


class BrodenProbe:
    """A Broden-format probe set on disk, or a subset of it.

    ``categories`` keeps the order of the category columns of ``index.csv`` (or of the requested
    subset); a category is image-level when its cells hold label numbers rather than mask paths.
    Subsets select rows by ``split``, then the first ``limit`` rows or a ``sample`` of that many
    rows drawn with ``seed`` (kept in index order, so a subset reads like a shorter index).
    ``records[i].row`` is always the row number in ``index.csv`` (the header is row 1).
    """

    def __init__(self, root: str | Path, *, split: str | None = None,
                 categories: list[str] | tuple[str, ...] | None = None,
                 limit: int | None = None, sample: int | None = None, seed: int = 0):
        self.root = Path(root)
        if not self.root.is_dir():
            raise LCEError(f"{self.root}: probe directory not found")
        self.index_path = self.root / "index.csv"
        rows = _read_csv(self.index_path, INDEX_FIXED_COLUMNS)
        with self.index_path.open(newline="") as fh:
            header = next(csv.reader(fh))
        self.all_categories = [c for c in header if c not in INDEX_FIXED_COLUMNS]
        self.categories: list[str] = _select_categories(self.index_path, self.all_categories,
                                                        categories)
        self.records: list[ImageRecord] = []
        for n, row in enumerate(rows, start=2):  # row 1 is the header
            if split is not None and row["split"] != split:
                continue
            try:
                sizes = {k: int(row[k]) for k in ("ih", "iw", "sh", "sw")}
            except (TypeError, ValueError):
                raise LCEError(f"{self.index_path}: row {n}: ih/iw/sh/sw must be integers"
                               ) from None
            cells = {c: _split_cell(row.get(c)) for c in self.categories}
            self.records.append(
                ImageRecord(row=n, image=row["image"], split=row["split"], cells=cells, **sizes)
            )
        if split is not None and not self.records:
            raise LCEError(f"{self.index_path}: no row has split {split!r}")
        self.records = _select_rows(self.records, limit, sample, seed, self.index_path)
        self.image_level = {c for c in self.categories if self._is_image_level(c)}

    def _is_image_level(self, category: str) -> bool:
        for rec in self.records:
            for part in rec.cells[category]:
                return part.isdigit()
        return category in IMAGE_LEVEL_CATEGORIES

    def __len__(self) -> int:
        return len(self.records)

    @property
    def pixel_categories(self) -> list[str]:
        return [c for c in self.categories if c not in self.image_level]

    @cached_property
    def label_rows(self) -> list[dict[str, str]]:
        """The rows of ``label.csv`` (header checked, numbers checked to be integers)."""
        path = self.root / "label.csv"
        rows = _read_csv(path, LABEL_COLUMNS)
        for n, row in enumerate(rows, start=2):
            if not row["number"].isdigit():
                raise LCEError(f"{path}: row {n}: number {row['number']!r} is not an integer")
        return rows

    @cached_property
    def known_labels(self) -> np.ndarray:
        """A lookup table: ``known_labels[n]`` is True when ``label.csv`` has label n (or n = 0)."""
        known = np.zeros(1 << 16, dtype=bool)
        known[0] = True
        known[[int(row["number"]) for row in self.label_rows if int(row["number"]) < 1 << 16]] \
            = True
        return known

    @cached_property
    def concepts(self) -> dict[int, Concept]:
        """Label number -> concept, with the primary category taken from the ``c_*`` coverages.

        The primary category is decided over *every* category's ``c_*`` file, and only then is
        a category subset applied: a label whose largest coverage is in an unselected category
        is dropped, not handed to its secondary one. Equal coverages go to the later category
        (NetDissect-Lite's ``max((coverage, category index))``). A label in no ``c_*`` file falls
        back to the category of ``label.csv`` with the largest count (``material(36);object(3)``).
        """
        best: dict[int, tuple[float, str]] = {}
        for category in self.all_categories:
            path = self.root / f"c_{category}.csv"
            if not path.exists():
                continue
            for n, row in enumerate(_read_csv(path, CATEGORY_LABEL_COLUMNS), start=2):
                try:
                    number, coverage = int(row["number"]), float(row["coverage"] or 0)
                except ValueError:
                    raise LCEError(f"{path}: row {n}: number/coverage must be numeric") from None
                if number not in best or coverage >= best[number][0]:
                    best[number] = (coverage, category)
        concepts = {}
        for n, row in enumerate(self.label_rows, start=2):
            number = int(row["number"])
            if number == 0:
                continue  # label 0 means "unlabelled" and is never a concept
            category = best[number][1] if number in best else self._listed_category(n, row)
            if category in self.categories:
                concepts[number] = Concept(number, row["name"], category)
        return concepts

    def _listed_category(self, n: int, row: dict[str, str]) -> str:
        """The category of a ``label.csv`` cell like ``material(36);object(3)`` with the largest
        count (a bare ``object`` counts as 0)."""
        counts = []
        for part in _split_cell(row["category"]):
            name, _, count = part.partition("(")
            try:
                counts.append((int(count.rstrip(")") or 0), name.strip()))
            except ValueError:
                raise LCEError(f"{self.root / 'label.csv'}: row {n}: bad category cell "
                               f"{row['category']!r}") from None
        return max(counts, key=lambda c: c[0])[1] if counts else ""

    def image_path(self, i: int) -> Path:
        return self.root / "images" / self.records[i].image

    def image(self, i: int) -> np.ndarray:
        """The i-th image as (ih, iw, 3) uint8 RGB."""
        path = self.image_path(i)
        if not path.is_file():
            raise LCEError(f"{self.index_path}: row {self.records[i].row}: "
                           f"image file {path} not found")
        return _read_rgb(path)

    def _image_labels(self, rec: ImageRecord, category: str) -> np.ndarray:
        try:
            numbers = np.array([int(x) for x in rec.cells[category]], dtype=np.int32)
        except ValueError:
            raise LCEError(f"{self.index_path}: row {rec.row}: {category} cell must list label "
                           f"numbers") from None
        unknown = [int(n) for n in numbers if not (0 <= n < 1 << 16 and self.known_labels[n])]
        if unknown:
            raise LCEError(f"{self.index_path}: row {rec.row}: {category} label {unknown[0]} is "
                           f"not in label.csv")
        return numbers

    def segmentation(self, i: int) -> dict[str, np.ndarray]:
        """Label data of image i for every category.

        Pixel-level categories give an int32 array (planes, sh, sw) -- zero planes when the image
        lacks the category; image-level categories give a 1-D int32 array of label numbers.
        """
        rec = self.records[i]
        out: dict[str, np.ndarray] = {}
        for category in self.categories:
            cell = rec.cells[category]
            if category in self.image_level:
                out[category] = self._image_labels(rec, category)
                continue
            planes = np.zeros((len(cell), rec.sh, rec.sw), dtype=np.int32)
            for k, rel in enumerate(cell):
                path = self.root / "images" / rel
                if not path.is_file():
                    raise LCEError(f"{self.index_path}: row {rec.row}: "
                                   f"mask file {path} not found")
                plane = decode_mask(_read_rgb(path))
                if plane.shape != (rec.sh, rec.sw):
                    raise LCEError(f"{path}: mask is {plane.shape[0]}x{plane.shape[1]}, "
                                   f"index.csv row {rec.row} says {rec.sh}x{rec.sw}")
                unknown = ~self.known_labels[plane]
                if unknown.any():
                    raise LCEError(f"{path}: label {int(plane[unknown][0])} (index.csv row "
                                   f"{rec.row}) is not in label.csv")
                planes[k] = plane
            out[category] = planes
        return out
