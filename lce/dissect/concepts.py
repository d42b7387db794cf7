"""The per-image concept data a tally needs, decoded once per probe image and shared by all layers.

For every image the engine needs, at mask resolution: which concepts it holds and their pixels
(the union of every plane carrying the label; the whole image for image-level concepts), which
categories it contains (``netdissect`` denominator) and which pixels are labelled in each category
(``lite`` denominator). They come from ``probe.segmentation(i)`` -- a ``BrodenProbe`` decoding PNGs,
or the dataset-side cache with the same interface, which hands the planes over already decoded.
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

    ``masks`` stacks the k concept masks and then one labelled-pixel mask per category. Few
    distinct columns of it occur (pixel "kinds": e.g. red + ball + labelled object and colour), so
    each pixel is stored as its kind and a unit's counts are its fired pixels per kind (a bincount)
    times the kinds' incidence matrix -- intersections and ``lite`` areas in one product.
    """

    columns: np.ndarray  # (k,) concept columns present in the image
    masks: np.ndarray  # (k + n_categories, P) bool
    present: np.ndarray  # (n_categories,) bool: the image contains the category
    areas: np.ndarray  # (k,) int64 pixels of each concept
    kind: np.ndarray  # (P,) int64 kind of each pixel
    kinds: np.ndarray  # (n_kinds, k + n_categories) bool: the masks each kind lies in


def pixel_kinds(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kind of each pixel, incidence of each kind) for masks (m, P) bool: exact, keys are the
    masks' bits packed into 63-bit words."""
    words = [np.zeros(masks.shape[1], dtype=np.int64)]
    for start in range(0, len(masks), 63):
        bits = masks[start:start + 63].astype(np.int64)
        words.append((bits << np.arange(len(bits), dtype=np.int64)[:, None]).sum(axis=0))
    words = words[1:] or words
    if len(words) == 1:  # up to 63 masks: one integer key per pixel (the common case)
        _, first, kind = np.unique(words[0], return_index=True, return_inverse=True)
    else:
        _, first, kind = np.unique(np.stack(words, axis=1), axis=0, return_index=True,
                                   return_inverse=True)
    return kind.ravel().astype(np.int64), masks[:, first].T.copy()


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
    labelled = np.zeros((n_cat, n_pixels), dtype=bool)
    whole_image = []  # image-level concept columns
    planes = [np.zeros((0, n_pixels), dtype=np.int64)]
    for j, category in enumerate(index.categories):
        data = segmentation.get(category)
        if data is None or data.size == 0:
            continue
        if category in image_level:
            numbers = np.intersect1d(data, index.numbers)
            present[j] = labelled[j] = numbers.size > 0
            whole_image.append(index.columns(numbers))
            continue
        flat = data.reshape(data.shape[0], -1)
        if flat.shape[1] != n_pixels:
            raise LCEError(f"segmentation of category {category!r} has {flat.shape[1]} "
                           f"pixels, expected {shape[0]}x{shape[1]}")
        labelled[j] = (flat > 0).any(axis=0)
        present[j] = labelled[j].any()
        planes.append(flat)
    labels = np.concatenate(planes).ravel()
    pixels = np.tile(np.arange(n_pixels), len(labels) // n_pixels)
    column = np.searchsorted(index.numbers, labels).clip(max=max(len(index.numbers) - 1, 0))
    known = (labels > 0) & (index.numbers[column] == labels) if len(index.numbers) else labels < 0
    image_columns = np.concatenate(whole_image) if whole_image else np.zeros(0, np.int64)
    columns = np.union1d(column[known], image_columns).astype(np.int64)
    masks = np.zeros((len(columns) + n_cat, n_pixels), dtype=bool)
    masks[np.searchsorted(columns, column[known]), pixels[known]] = True
    masks[np.searchsorted(columns, image_columns)] = True
    masks[len(columns):] = labelled
    return ImageConcepts(columns, masks, present, masks[:len(columns)].sum(axis=1),
                         *pixel_kinds(masks))
