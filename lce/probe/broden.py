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


class BrodenProbe:
    """A Broden-format probe set on disk.

    ``categories`` keeps the order of the category columns of ``index.csv``; a category is
    image-level when its cells hold label numbers rather than mask paths.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise LCEError(f"{self.root}: probe directory not found")
        index_path = self.root / "index.csv"
        rows = _read_csv(index_path, INDEX_FIXED_COLUMNS)
        with index_path.open(newline="") as fh:
            header = next(csv.reader(fh))
        self.categories: list[str] = [c for c in header if c not in INDEX_FIXED_COLUMNS]
        self.records: list[ImageRecord] = []
        for n, row in enumerate(rows, start=2):  # row 1 is the header
            try:
                sizes = {k: int(row[k]) for k in ("ih", "iw", "sh", "sw")}
            except (TypeError, ValueError):
                raise LCEError(f"{index_path}: row {n}: ih/iw/sh/sw must be integers") from None
            cells = {c: _split_cell(row.get(c)) for c in self.categories}
            self.records.append(
                ImageRecord(row=n, image=row["image"], split=row["split"], cells=cells, **sizes)
            )
        self.image_level = {c for c in self.categories if self._cells_are_numbers(c)}

    def _cells_are_numbers(self, category: str) -> bool:
        for rec in self.records:
            for part in rec.cells[category]:
                return part.isdigit()
        return False

    def __len__(self) -> int:
        return len(self.records)

    @property
    def pixel_categories(self) -> list[str]:
        return [c for c in self.categories if c not in self.image_level]

    @cached_property
    def concepts(self) -> dict[int, Concept]:
        """Label number -> concept, with the primary category taken from the ``c_*`` coverages."""
        label_rows = _read_csv(self.root / "label.csv", LABEL_COLUMNS)
        best: dict[int, tuple[float, str]] = {}
        for category in self.categories:
            path = self.root / f"c_{category}.csv"
            if not path.exists():
                continue
            for row in _read_csv(path, CATEGORY_LABEL_COLUMNS):
                number, coverage = int(row["number"]), float(row["coverage"] or 0)
                if number not in best or coverage > best[number][0]:
                    best[number] = (coverage, category)
        concepts = {}
        for row in label_rows:
            number = int(row["number"])
            if number == 0:
                continue  # label 0 means "unlabelled" and is never a concept
            category = best.get(number, (0.0, row["category"].split("(")[0]))[1]
            concepts[number] = Concept(number, row["name"], category)
        return concepts

    def image_path(self, i: int) -> Path:
        return self.root / "images" / self.records[i].image

    def image(self, i: int) -> np.ndarray:
        """The i-th image as (ih, iw, 3) uint8 RGB."""
        path = self.image_path(i)
        if not path.is_file():
            raise LCEError(f"{self.root / 'index.csv'}: row {self.records[i].row}: "
                           f"image file {path} not found")
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))

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
                out[category] = np.array([int(x) for x in cell], dtype=np.int32)
                continue
            planes = np.zeros((len(cell), rec.sh, rec.sw), dtype=np.int32)
            for k, rel in enumerate(cell):
                path = self.root / "images" / rel
                if not path.is_file():
                    raise LCEError(f"{self.root / 'index.csv'}: row {rec.row}: "
                                   f"mask file {path} not found")
                with Image.open(path) as im:
                    plane = decode_mask(np.asarray(im.convert("RGB")))
                if plane.shape != (rec.sh, rec.sw):
                    raise LCEError(f"{path}: mask is {plane.shape[0]}x{plane.shape[1]}, "
                                   f"index.csv row {rec.row} says {rec.sh}x{rec.sw}")
                planes[k] = plane
            out[category] = planes
        return out
