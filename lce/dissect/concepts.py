"""The per-image concept data a tally needs, decoded once per probe image and shared by all layers.

For every image the engine needs, at mask resolution: which concepts it holds and their pixels
(the union of every plane carrying the label; the whole image for image-level concepts), which
categories it contains (``netdissect`` denominator) and which pixels are labelled in each category
(``lite`` denominator). They come from ``probe.segmentation(i)`` -- a ``BrodenProbe`` decoding PNGs,
or the dataset-side cache with the same interface, which hands the planes over already decoded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lce.errors import LCEError


@dataclass
class ConceptIndex:
    """Concept numbers in column order, and each concept's primary category index."""

    numbers: np.ndarray  # (K,) label numbers, sorted
    categories: list[str]
    category_of: np.ndarray  # (K,) index into ``categories``

    @classmethod
    def from_probe(cls, probe) -> ConceptIndex:
        numbers = np.array(sorted(probe.concepts), dtype=np.int64)
        cats = list(probe.categories)
        unknown = sorted({probe.concepts[n].category for n in numbers} - set(cats))
        if unknown:
            raise LCEError(f"probe concepts use unknown category {unknown[0]!r}",
                           hint=f"index.csv categories: {', '.join(cats)}")
        category_of = np.array([cats.index(probe.concepts[n].category) for n in numbers],
                               dtype=np.int64)
        return cls(numbers, cats, category_of)

    def columns(self, labels: np.ndarray) -> np.ndarray:
        """Column index of each label number (labels must be known concepts)."""
        return np.searchsorted(self.numbers, labels)


@dataclass
class ImageConcepts:
    """One image's concepts at mask resolution, flattened to P = sh * sw pixels.

    Few distinct combinations of labels occur per pixel (pixel *kinds*: e.g. red + ball, with the
    object and colour categories labelled), so each pixel is stored as its kind, and a unit's
    counts are its fired pixels per kind (a bincount) times the kinds' incidence matrix over the k
    concepts and the categories' labelled-pixel masks: intersections and ``lite`` areas at once.
    """

    columns: np.ndarray  # (k,) concept columns present in the image
    present: np.ndarray  # (n_categories,) bool: the image contains the category
    areas: np.ndarray  # (k,) int64 pixels of each concept
    kind: np.ndarray  # (P,) int64 kind of each pixel
    kinds: np.ndarray  # (n_kinds, k + n_categories) bool: concepts and labelled categories


def image_concepts(segmentation: dict[str, np.ndarray], image_level: set[str],
                   index: ConceptIndex, shape: tuple[int, int]) -> ImageConcepts:
    """Decode one image's segmentation (``probe.segmentation(i)``) into :class:`ImageConcepts`.

    A concept's pixels are the union of every plane carrying its label, in any category. Labels
    that are not concepts (unknown numbers) mark pixels as labelled for ``lite`` but are never
    counted as concepts; label 0 is unlabelled.
    """
    n_pixels = shape[0] * shape[1]
    n_cat = len(index.categories)
    present = np.zeros(n_cat, dtype=bool)
    whole_image = [np.zeros(0, np.int64)]  # image-level concept columns
    planes, plane_category = [np.zeros((0, n_pixels), np.int64)], []
    for j, category in enumerate(index.categories):
        data = segmentation.get(category)
        if data is None or data.size == 0:
            continue
        if category in image_level:
            numbers = np.intersect1d(data, index.numbers)
            present[j] = numbers.size > 0
            whole_image.append(index.columns(numbers))
            continue
        flat = data.reshape(data.shape[0], -1)
        if flat.shape[1] != n_pixels:
            raise LCEError(f"segmentation of category {category!r} has {flat.shape[1]} "
                           f"pixels, expected {shape[0]}x{shape[1]}")
        present[j] = (flat > 0).any()
        planes.append(flat)
        plane_category += [j] * len(flat)
    labels = np.concatenate(planes)
    image_columns = np.unique(np.concatenate(whole_image))
    if labels.size and labels.min() < 0:
        raise LCEError("segmentation holds negative label numbers")
    occurs = np.bincount(labels.ravel(), minlength=int(index.numbers.max(initial=0)) + 1)
    known = index.numbers[occurs[index.numbers] > 0]
    columns = np.union1d(index.columns(known), image_columns).astype(np.int64)
    # digit of a plane's pixel: 0 unlabelled, 1 + position in ``known``, or len(known) + 1
    # for a label that is not a concept (it still marks the pixel as labelled)
    lookup = np.full(len(occurs), len(known) + 1, dtype=np.int64)
    lookup[0] = 0
    lookup[known] = np.arange(1, len(known) + 1)
    digits = lookup[labels]
    kind, first = _unique_columns(digits, len(known) + 2)
    kinds = np.zeros((len(first), len(columns) + n_cat), dtype=bool)
    kinds[:, np.searchsorted(columns, image_columns)] = True
    kinds[:, len(columns):][:, present & np.isin(np.arange(n_cat), [
        j for j, c in enumerate(index.categories) if c in image_level])] = True
    for plane, j in enumerate(plane_category):
        d = digits[plane, first]
        is_concept = (d > 0) & (d <= len(known))
        rows = np.flatnonzero(is_concept)
        kinds[rows, np.searchsorted(columns, index.columns(known[d[rows] - 1]))] = True
        kinds[d > 0, len(columns) + j] = True
    counts = np.bincount(kind, minlength=len(first))
    return ImageConcepts(columns, present, counts @ kinds[:, :len(columns)].astype(np.int64),
                         kind, kinds)


def _unique_columns(digits: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """(kind of each pixel, first pixel of each kind) for the digit columns (planes, P)."""
    if len(digits) == 0:
        return np.zeros(digits.shape[1], np.int64), np.zeros(1 if digits.shape[1] else 0,
                                                             np.int64)
    if len(digits) * math.log2(base) < 62:  # one exact integer key per pixel
        keys = np.zeros(digits.shape[1], dtype=np.int64)
        for row in digits:
            keys = keys * base + row
    else:
        keys = digits.T
    _, first, kind = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return kind.ravel().astype(np.int64), first
