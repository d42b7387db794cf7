"""The per-image concept data a tally needs, decoded once per probe image and shared by all layers.

For every image the engine needs, at mask resolution: which concepts it holds and their pixels
(the union of every plane carrying the label; the whole image for image-level concepts) and which
categories it contains (``netdissect`` denominator; the ``lite`` denominator needs only which
concepts a unit's fired pixels touch). They come from ``probe.segmentation(i)`` -- a
``BrodenProbe`` decoding PNGs, or the dataset-side cache with the same interface, which hands the
planes over already decoded.
"""

from __future__ import annotations

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

    Few distinct combinations of concepts occur per pixel (pixel *kinds*: e.g. red + ball), so
    each pixel is stored as its kind, and a unit's intersections are its fired pixels per kind (a
    bincount) times the kinds' incidence matrix over the image's k concepts. Both denominators
    follow from those: ``netdissect`` needs the unit's fired area and ``present``, ``lite`` only
    which of the image's concepts the fired pixels touch.
    """

    columns: np.ndarray  # (k,) concept columns present in the image
    present: np.ndarray  # (n_categories,) bool: the image contains the category
    areas: np.ndarray  # (k,) int64 pixels of each concept
    kind: np.ndarray  # (P,) int64 kind of each pixel
    kinds: np.ndarray  # (n_kinds, k) bool: the concepts each kind carries


def image_concepts(segmentation: dict[str, np.ndarray], image_level: set[str],
                   index: ConceptIndex, shape: tuple[int, int]) -> ImageConcepts:
    """Decode one image's segmentation (``probe.segmentation(i)``) into :class:`ImageConcepts`.

    A concept's pixels are the union of every plane carrying its label, in any category (a
    label on two planes at one pixel counts once); an image-level concept covers the whole image.
    Label numbers that are not concepts count for no concept (they still make their plane's
    category ``present``); label 0 is unlabelled.
    """
    n_pixels = shape[0] * shape[1]
    present = np.zeros(len(index.categories), dtype=bool)
    whole_image = [np.zeros(0, np.int64)]  # image-level concept columns
    planes = [np.zeros((0, n_pixels), np.int64)]
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
        present[j] = flat.any()  # labels are >= 0 (checked below)
        planes.append(flat)
    labels = np.concatenate(planes, dtype=np.int64)  # int64: an index, used as is
    image_columns = np.unique(np.concatenate(whole_image))
    if labels.size and labels.min() < 0:
        raise LCEError("segmentation holds negative label numbers")
    occurs = np.bincount(labels.ravel(), minlength=int(index.numbers.max(initial=0)) + 1)
    known = index.numbers[occurs[index.numbers] > 0]
    known = known[~np.isin(index.columns(known), image_columns)]  # already the whole image
    columns = np.union1d(index.columns(known), image_columns).astype(np.int64)
    from lce.dissect.kernel import pixel_kinds

    # digit of a plane's pixel: 1 + position of its concept in ``known``, 0 for no concept
    lookup = np.zeros(len(occurs), dtype=np.int64)
    lookup[known] = np.arange(1, len(known) + 1)
    kind, first = pixel_kinds(labels, lookup, len(known) + 1)
    digits = lookup[labels[:, first]]  # the digits of one pixel of each kind
    kinds = np.zeros((len(first), len(columns)), dtype=bool)
    kinds[:, np.searchsorted(columns, image_columns)] = True
    position = np.searchsorted(columns, index.columns(known))  # digit - 1 -> kinds column
    for plane in digits:
        rows = np.flatnonzero(plane)
        kinds[rows, position[plane[rows] - 1]] = True
    counts = np.bincount(kind, minlength=len(first))
    return ImageConcepts(columns, present, counts @ kinds.astype(np.int64), kind, kinds)
